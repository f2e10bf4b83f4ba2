// nat.conntrack: the tracked flows with their translations, states and time
// left, like `conntrack -L` (at most `limit` of them: the table may hold
// millions), and MASQUERADE's counters.
#include <netinet/in.h>

#include <array>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

struct ProtoName {
    std::uint8_t proto;
    const char* name;
};
constexpr std::array<ProtoName, 3> kProtos = {{{IPPROTO_TCP, "tcp"}, {IPPROTO_UDP, "udp"}, {IPPROTO_ICMP, "icmp"}}};

constexpr std::int64_t kDefaultLimit = 1000;
constexpr std::int64_t kMaxLimit = 100'000;

const char* proto_name(std::uint8_t proto) {
    for (const auto& p : kProtos) {
        if (p.proto == proto) return p.name;
    }
    return "?";
}

json tuple(const nat::FlowKey& k) {
    return {{"src", Ipv4Address::from_be(Be32::from_raw(k.src_ip)).to_string()},
            {"sport", rte_be_to_cpu_16(k.src_port)},
            {"dst", Ipv4Address::from_be(Be32::from_raw(k.dst_ip)).to_string()},
            {"dport", rte_be_to_cpu_16(k.dst_port)}};
}

// conntrack -L's --src/--dst: an address the original tuple must carry.
Result<std::optional<std::uint32_t>> address_filter(const json& args, const char* key) {
    auto text = optional_string(args, key);
    if (!text) return text.status();
    if (!*text) return std::optional<std::uint32_t>();
    auto ip = Ipv4Address::parse(**text);
    if (!ip) return Status::error(std::string(key) + ": '" + **text + "' is not an IPv4 address");
    return std::optional<std::uint32_t>(ip->be().raw());
}

Result<json> nat_conntrack(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"proto", "src", "dst", "limit"}); !st) return st;
    auto limit = optional_int(args, "limit");
    if (!limit) return limit.status();
    const std::int64_t max_flows = limit->value_or(kDefaultLimit);
    if (max_flows < 1 || max_flows > kMaxLimit) {
        return Result<json>::error("limit must be 1.." + std::to_string(kMaxLimit));
    }
    auto src = address_filter(args, "src");
    if (!src) return src.status();
    auto dst = address_filter(args, "dst");
    if (!dst) return dst.status();
    auto proto = optional_string(args, "proto");
    if (!proto) return proto.status();
    std::optional<std::uint8_t> only;
    if (*proto) {
        for (const auto& p : kProtos) {
            if (**proto == p.name) only = p.proto;
        }
        if (!only) return Result<json>::error("unknown protocol '" + **proto + "' (expected tcp, udp or icmp)");
    }
    nat::Conntrack& ct = ctx.dataplane.conntrack();
    json flows = json::array();
    // One more than asked for tells whether the list is cut.
    auto views = ct.dump(rte_rdtsc(), static_cast<std::size_t>(max_flows) + 1, [&](const nat::Entry& e) {
        if (only && e.original.proto != *only) return false;
        return !(*src && e.original.src_ip != **src) && !(*dst && e.original.dst_ip != **dst);
    });
    const bool truncated = views.size() > static_cast<std::size_t>(max_flows);
    if (truncated) views.pop_back();
    for (const auto& f : views) {
        // The translated tuple as it leaves: the reply tuple turned around.
        flows.push_back({{"proto", proto_name(f.original.proto)},
                         {"original", tuple(f.original)},
                         {"translated", tuple(f.reply.reversed())},
                         {"state", std::string(nat::kCtStateNames[static_cast<std::size_t>(f.state)])},
                         {"timeout_s", f.seconds_left}});
    }
    std::array<std::uint64_t, kDropReasonCount> drops{};
    const auto counters = ctx.dataplane.read_counters();
    for (std::size_t w = 0; w < counters.size(); ++w) {
        const auto c = since_baseline(ctx, w, counters[w]);
        for (std::size_t r = 0; r < kDropReasonCount; ++r) drops[r] += c.drops[r];
    }
    json ports = json::object();
    for (const auto& p : kProtos) ports[p.name] = ct.ports_in_use(p.proto);
    auto drop = [&](DropReason r) { return drops[static_cast<std::size_t>(r)]; };
    return json{{"flows", flows},
                {"truncated", truncated},
                {"entries", ct.entries()},
                {"capacity", ct.capacity()},
                {"ports_in_use", ports},
                {"ct_full", drop(DropReason::CtFull)},
                {"nat_no_port", drop(DropReason::NatNoPort)},
                {"nat_unsupported", drop(DropReason::NatUnsupported)},
                {"ct_key_taken", drop(DropReason::CtKeyTaken)},
                {"ct_source_limit", drop(DropReason::CtSourceLimit)},
                {"early_drops", ct.early_drops()}};
}

}  // namespace

void register_nat_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("nat.conntrack", "tracked flows (MASQUERADE, published ports) and counters (proto, src, dst, limit)",
                 [&ctx](const json& a) { return nat_conntrack(ctx, a); });
}

}  // namespace dpdock::control
