// dpdock uplink show|set|rm: the port to the outside world and its ARP cache
// (`ip addr`/`ip route`/`ip neigh` of the uplink in one view), changed at
// run time with the same checks as the YAML `uplink:` section.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

int run_uplink_show(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 0);
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("uplink.show"), [](const nlohmann::json& r) {
        const auto& u = r["uplink"];
        if (u.is_null()) {
            std::cout << "no uplink: containers cannot reach the outside (see `dpdock uplink set`)\n";
            return;
        }
        std::cout << "devargs  " << cell(u["devargs"]) << "\nport     " << cell(u["port_id"]) << " ("
                  << cell(u["mac"]) << ")\naddress  " << cell(u["address"]) << "\ngateway  " << cell(u["gateway"])
                  << (u["gateway_mac"].is_string() ? " (permanent " + cell(u["gateway_mac"]) + ")" : "")
                  << "\nmtu      " << cell(u["mtu"]) << "\narp      timeout " << cell(u["arp_timeout_s"])
                  << " s\n\n";
        TablePrinter table({"neighbour", "mac", "state", "age (s)"});
        for (const auto& n : r["neighbours"]) {
            table.add_row({cell(n["ip"]), cell(n["mac"]), cell(n["state"]), cell(n["age_s"])});
        }
        table.print(std::cout);
    });
}

int run_uplink_set(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options("Options");
    options.add_options()
        ("devargs", po::value<std::string>()->value_name("DEVARGS"), "the DPDK device, e.g. net_af_packet0,iface=eth1")
        ("address", po::value<std::string>()->value_name("CIDR"), "the host's address and prefix on the uplink")
        ("gateway", po::value<std::string>()->value_name("IP"), "the default gateway, inside the address's subnet")
        ("mtu", po::value<std::int64_t>()->value_name("BYTES"), "the uplink's MTU (default 1500)")
        ("arp-timeout", po::value<std::int64_t>()->value_name("SECONDS"), "how long a resolved next hop is trusted")
        ("gateway-mac", po::value<std::string>()->value_name("MAC"),
         "the gateway's MAC as a permanent neighbour (no ARP); '' removes it");
    auto parsed = parse_args_with_operands(ctx, args, options, 0);
    if (!parsed.values) return parsed.exit_code;
    const po::variables_map& v = *parsed.values;
    nlohmann::json request = nlohmann::json::object();
    for (const char* key : {"devargs", "address", "gateway"}) {
        if (v.count(key)) request[key] = v[key].as<std::string>();
    }
    if (v.count("mtu")) request["mtu"] = v["mtu"].as<std::int64_t>();
    if (v.count("arp-timeout")) request["arp_timeout_s"] = v["arp-timeout"].as<std::int64_t>();
    if (v.count("gateway-mac")) request["gateway_mac"] = v["gateway-mac"].as<std::string>();
    if (request.empty()) return usage_error(ctx, "nothing to set");
    return print_result(ctx, ctx.call("uplink.set", request), [](const nlohmann::json& r) {
        std::cout << cell(r["uplink"]["address"]) << " via " << cell(r["uplink"]["gateway"]) << "\n";
    });
}

int run_uplink_rm(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 0);
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("uplink.rm"), [](const nlohmann::json&) {});
}

}  // namespace dpdock::cli
