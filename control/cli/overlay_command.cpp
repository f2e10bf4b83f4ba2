// dpdock overlay peer add|rm NETWORK IP, overlay peer ls NETWORK, overlay fdb
// NETWORK: an overlay network's remote VTEPs and its forwarding database, in
// the shape of `bridge fdb show dev vxlan0`.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {
namespace {

void print_peers(const nlohmann::json& r) {
    std::cout << "network " << cell(r["network"]) << ", vni " << cell(r["vni"]) << "\n";
    TablePrinter table({"peer"});
    for (const auto& p : r["peers"]) table.add_row({cell(p)});
    table.print(std::cout);
}

}  // namespace

int run_overlay_peer(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 3);
    if (!parsed.values) return parsed.exit_code;
    const auto words = operands(*parsed.values);
    if (words.empty()) return usage_error(ctx, "missing add, rm or ls");
    const std::string& verb = words[0];
    if (verb == "ls") {
        if (words.size() != 2) return usage_error(ctx, "usage: overlay peer ls NETWORK");
        return print_result(ctx, ctx.call("overlay.peer.ls", {{"network", words[1]}}), print_peers);
    }
    if (verb != "add" && verb != "rm") return usage_error(ctx, "unknown verb '" + verb + "' (add, rm or ls)");
    if (words.size() != 3) return usage_error(ctx, "usage: overlay peer " + verb + " NETWORK IP");
    return print_result(ctx, ctx.call("overlay.peer." + verb, {{"network", words[1]}, {"ip", words[2]}}),
                        print_peers);
}

int run_overlay_fdb(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 1);
    if (!parsed.values) return parsed.exit_code;
    const auto words = operands(*parsed.values);
    if (words.size() != 1) return usage_error(ctx, "missing NETWORK");
    return print_result(ctx, ctx.call("overlay.fdb", {{"network", words[0]}}), [](const nlohmann::json& r) {
        TablePrinter table({"mac", "vtep", "port", "static", "age (s)"});
        for (const auto& e : r["entries"]) {
            const bool is_static = e.value("static", false);
            table.add_row({cell(e["mac"]), cell(e["vtep"]), cell(e["port"]), is_static ? "yes" : "no",
                           is_static ? "-" : cell(e["age_s"])});
        }
        table.print(std::cout);
    });
}

}  // namespace dpdock::cli
