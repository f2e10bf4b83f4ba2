// dpdock port NAME [CPORT[/PROTO]] (like `docker port`) and dpdock nat (like
// `iptables -t nat -nvL` for Docker's chains): published ports and NAT rules.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

using nlohmann::json;

int run_port(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 2);
    if (!parsed.values) return parsed.exit_code;
    const auto ops = operands(*parsed.values);
    if (ops.empty()) return usage_error(ctx, "missing NAME");
    json request = {{"name", ops[0]}};
    if (ops.size() == 2) request["port"] = ops[1];
    const bool one_port = ops.size() == 2;
    return print_result(ctx, ctx.call("container.port", request), [one_port](const json& ports) {
        for (const auto& p : ports) {
            const std::string host = cell(p["host_ip"]) + ":" + cell(p["host_port"]);
            // docker port NAME 80 prints only the host side.
            std::cout << (one_port ? host : cell(p["container_port"]) + " -> " + host) << "\n";
        }
    });
}

int run_nat(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args(ctx, args, po::options_description());
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("nat.rules"), [](const json& r) {
        bool first = true;
        for (const auto& chain : r["chains"]) {
            std::cout << (first ? "" : "\n") << "Chain " << cell(chain["name"]) << "\n";
            first = false;
            TablePrinter table({"pkts", "bytes", "target", "prot", "source", "destination", ""});
            for (const auto& rule : chain["rules"]) {
                std::string extra = rule.contains("network") ? "network " + cell(rule["network"]) : "";
                if (rule.contains("dport")) {
                    extra = cell(rule["prot"]) + " dpt:" + cell(rule["dport"]) + " to:" + cell(rule["to"]) +
                            " container " + cell(rule["container"]);
                }
                table.add_row({cell(rule["packets"]), cell(rule["bytes"]), cell(rule["target"]), cell(rule["prot"]),
                               cell(rule["source"]), cell(rule["destination"]), extra});
            }
            table.print(std::cout);
        }
    });
}

}  // namespace dpdock::cli
