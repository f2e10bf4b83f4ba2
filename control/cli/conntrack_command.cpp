// dpdock conntrack [--proto tcp|udp|icmp] [--src IP] [--dst IP] [--limit N]: tracked flows, like
// `conntrack -L`: the original and translated tuples, state and time left,
// then the table's fill and its drop counters.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {
namespace {

std::string endpoint(const nlohmann::json& t, const char* ip, const char* port) {
    return t[ip].get<std::string>() + ":" + std::to_string(t[port].get<unsigned>());
}

std::string tuple(const nlohmann::json& t) {
    return endpoint(t, "src", "sport") + " -> " + endpoint(t, "dst", "dport");
}

}  // namespace

int run_conntrack(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options;
    options.add_options()("proto", po::value<std::string>(), "only flows of this protocol: tcp, udp or icmp")(
        "src", po::value<std::string>(), "only flows whose original source address is this")(
        "dst", po::value<std::string>(), "only flows whose original destination address is this")(
        "limit", po::value<std::int64_t>()->value_name("N"), "at most N flows (default 1000, at most 100000)");
    auto parsed = parse_args_with_operands(ctx, args, options, 0);
    if (!parsed.values) return parsed.exit_code;
    nlohmann::json request = nlohmann::json::object();
    for (const char* key : {"proto", "src", "dst"}) {
        if (parsed.values->count(key) != 0) request[key] = (*parsed.values)[key].as<std::string>();
    }
    if (parsed.values->count("limit") != 0) request["limit"] = (*parsed.values)["limit"].as<std::int64_t>();
    return print_result(ctx, ctx.call("nat.conntrack", request), [](const nlohmann::json& r) {
        TablePrinter table({"proto", "original", "translated", "state", "timeout (s)"});
        for (const auto& f : r["flows"]) {
            table.add_row({cell(f["proto"]), tuple(f["original"]), tuple(f["translated"]), cell(f["state"]),
                           cell(f["timeout_s"])});
        }
        table.print(std::cout);
        if (r["truncated"].get<bool>()) std::cout << "(more flows match: --limit shows more)\n";
        std::cout << "\n" << cell(r["entries"]) << " of " << cell(r["capacity"]) << " entries; ports in use: tcp "
                  << cell(r["ports_in_use"]["tcp"]) << ", udp " << cell(r["ports_in_use"]["udp"]) << ", icmp "
                  << cell(r["ports_in_use"]["icmp"]) << "; dropped: ct_full " << cell(r["ct_full"])
                  << ", nat_no_port " << cell(r["nat_no_port"]) << ", nat_unsupported " << cell(r["nat_unsupported"])
                  << ", ct_key_taken " << cell(r["ct_key_taken"]) << ", ct_source_limit " << cell(r["ct_source_limit"])
                  << "; early drops " << cell(r["early_drops"]) << "\n";
    });
}

}  // namespace dpdock::cli
