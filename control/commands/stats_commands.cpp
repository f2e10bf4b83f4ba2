// stats.show, stats.clear, version: counters per port, per worker and per drop reason.
#include <rte_cycles.h>
#include <rte_version.h>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"
#include "control/commands/json_views.hpp"
#include "dataplane/port.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

json drops_by_reason(const std::array<std::uint64_t, kDropReasonCount>& drops) {
    json out = json::object();
    for (std::size_t r = 0; r < kDropReasonCount; ++r) out[std::string(kDropReasonNames[r])] = drops[r];
    return out;
}

// What the device itself counted: its ring overflows and errors, which the
// workers never see, and its per-queue packet counts.
json device_stats(PortId port) {
    auto s = dataplane::read_port_stats(port);
    if (!s) return nullptr;
    return {{"rx_missed", s->rx_missed},
            {"rx_errors", s->rx_errors},
            {"tx_errors", s->tx_errors},
            {"rx_nombuf", s->rx_nombuf},
            {"rx_queue_packets", s->rx_queue_packets},
            {"tx_queue_packets", s->tx_queue_packets}};
}

// The worker's idle waits (dataplane/fastpath/idle_wait.hpp), times in us.
json idle_stats(const sync::WorkerCounters& c) {
    const double us_per_cycle = 1e6 / static_cast<double>(rte_get_tsc_hz());
    const std::uint64_t rx_wakes = c.idle_rx_fd_wakes + c.idle_rx_timeouts;
    return {{"waits", c.idle_waits},
            {"fd_wakes", c.idle_fd_wakes},
            {"timeouts", c.idle_waits - c.idle_fd_wakes},
            {"rx_after_fd_wake", c.idle_rx_fd_wakes},
            {"rx_after_timeout", c.idle_rx_timeouts},
            {"wait_us_avg", c.idle_waits == 0 ? 0.0 : static_cast<double>(c.idle_cycles) * us_per_cycle / c.idle_waits},
            {"wake_to_rx_us_avg",
             rx_wakes == 0 ? 0.0 : static_cast<double>(c.idle_wake_to_rx_cycles) * us_per_cycle / rx_wakes}};
}

json stats_show(CommandContext& ctx) {
    const auto live = ctx.dataplane.read_counters();
    const auto lcores = ctx.dataplane.worker_lcores();
    sync::WorkerCounters total;
    json workers = json::array();
    for (std::size_t w = 0; w < live.size(); ++w) {
        const auto c = since_baseline(ctx, w, live[w]);
        sync::accumulate(total, c);
        workers.push_back({{"worker", w},
                           {"lcore", lcores[w]},
                           {"loops", c.loops},
                           {"rx_packets", c.rx_packets},
                           {"tx_packets", c.tx_packets},
                           {"spread_out", c.spread_out},
                           {"spread_in", c.spread_in},
                           {"busy_cycles", c.busy_cycles},
                           {"cycles_per_packet", c.busy_packets == 0 ? 0.0
                                                 : static_cast<double>(c.busy_cycles) / c.busy_packets},
                           {"idle", idle_stats(c)}});
    }
    json ports = json::array();
    for (const auto& [port, record] : ctx.dataplane.ports()) {
        sync::PortCounters pc = ctx.dataplane.port_counters(port);
        if (auto b = ctx.port_baseline.find(port); b != ctx.port_baseline.end() && b->second.serial == record.serial) {
            pc -= b->second.counters;
        }
        ports.push_back({{"port_id", port},
                         {"name", ctx.state.port_owner(port)},
                         {"worker", record.worker},
                         {"rx_packets", pc.rx_packets},
                         {"rx_bytes", pc.rx_bytes},
                         {"tx_packets", pc.tx_packets},
                         {"tx_bytes", pc.tx_bytes},
                         {"drops", pc.total_drops()},
                         {"drops_by_reason", drops_by_reason(pc.drops)},
                         {"device", device_stats(port)}});
    }
    const host_proxy::ProxyCounters& proxy = ctx.state.host_proxy().counters();
    json mac = {{"entries", ctx.dataplane.macs().size()},
                {"capacity", ctx.dataplane.macs().capacity()},
                {"learned", total.mac_learned},
                {"moved", total.mac_moved},
                {"table_full", total.mac_table_full},
                {"static_conflict", total.mac_static_conflict}};
    return {{"ports", ports},
            {"workers", workers},
            {"drops", drops_by_reason(total.drops)},
            {"mac", mac},
            {"icmp_errors", {{"sent", total.icmp_errors_sent}, {"suppressed", total.icmp_errors_suppressed}}},
            {"offload",
             {{"checksum_completed", total.checksum_completed},
              {"gso_frames", total.gso_frames},
              {"gso_segments", total.gso_segments}}},
            {"fragmentation", {{"datagrams", total.fragmented}, {"fragments", total.fragments_made}}},
            {"flooded", total.flooded},
            {"kernel_ports",
             {{"gso_rx", total.kernel_gso_rx},
              {"gso_tx", total.kernel_gso_tx},
              {"partial_csum_rx", total.kernel_partial_csum_rx},
              {"rx_calls", total.kernel_rx_calls},
              {"rx_empty_calls", total.kernel_rx_empty_calls},
              {"rx_frames", total.kernel_rx_frames},
              {"tx_calls", total.kernel_tx_calls},
              {"tx_frames", total.kernel_tx_frames}}},
            {"exception",
             {{"punted", total.punted},
              {"from_host", total.from_host},
              {"proxy",
               {{"accepted", proxy.accepted.load()},
                {"connect_failed", proxy.connect_failed.load()},
                {"over_limit", proxy.over_limit.load()},
                {"active", proxy.active.load()}}}}},
            {"rx_packets", total.rx_packets},
            {"tx_packets", total.tx_packets},
            {"conntrack", {{"entries", ctx.dataplane.conntrack().entries()}, {"capacity", ctx.dataplane.conntrack().capacity()}}},
            {"dns", dns_counters_json(ctx.dataplane.dns().counters())}};
}

}  // namespace

void register_stats_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("stats.show", "counters per port, per worker and per drop reason",
                 [&ctx](const json& args) -> Result<json> {
                     if (auto st = reject_unknown_keys(args, {}); !st) return st;
                     return stats_show(ctx);
                 });
    registry.add("stats.clear", "restart every counter from zero (the dataplane's own counters are untouched)",
                 [&ctx](const json& args) -> Result<json> {
                     if (auto st = reject_unknown_keys(args, {}); !st) return st;
                     ctx.stats_baseline = ctx.dataplane.read_counters();
                     ctx.port_baseline.clear();
                     for (const auto& [port, record] : ctx.dataplane.ports()) {
                         ctx.port_baseline[port] = {record.serial, ctx.dataplane.port_counters(port)};
                     }
                     return json::object();
                 });
    registry.add("version", "daemon and DPDK versions", [](const json& args) -> Result<json> {
        if (auto st = reject_unknown_keys(args, {}); !st) return st;
        return json{{"dpdockd", DPDOCK_VERSION}, {"dpdk", rte_version()}};
    });
}

}  // namespace dpdock::control
