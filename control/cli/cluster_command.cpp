// dpdock cluster hosts|status: the hosts of the cluster store and this host's
// membership (cluster.hosts, cluster.status).
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

int run_cluster_hosts(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 0);
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("cluster.hosts", nlohmann::json::object()), [](const nlohmann::json& r) {
        TablePrinter table({"host", "vtep", "since", "endpoints", ""});
        for (const auto& h : r) {
            table.add_row({cell(h["name"]), cell(h["vtep"]), cell(h["since"]), cell(h["endpoints"]),
                           h.value("self", false) ? "(this host)" : ""});
        }
        table.print(std::cout);
    });
}

int run_cluster_status(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 0);
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("cluster.status", nlohmann::json::object()), [](const nlohmann::json& r) {
        if (!r.value("enabled", false)) {
            std::cout << "no cluster (dpdockd runs without --etcd)\n";
            return;
        }
        std::cout << "host " << cell(r["host"]) << ", VTEP " << cell(r["vtep"]) << "\n"
                  << "etcd " << cell(r["etcd"]) << ": " << (r.value("connected", false) ? "connected" : "UNREACHABLE")
                  << ", lease " << cell(r["lease"]) << ", revision " << cell(r["revision"]) << "\n"
                  << "store: " << cell(r["hosts"]) << " hosts, " << cell(r["networks"]) << " global networks, "
                  << cell(r["endpoints"]) << " endpoints\n";
        TablePrinter table({"counter", "value"});
        for (const auto& [name, value] : r["counters"].items()) table.add_row({name, cell(value)});
        table.print(std::cout);
    });
}

}  // namespace dpdock::cli
