// dpdock dns NETWORK: the names the network's embedded DNS answers (container
// names, aliases, NAME.NETWORK), each address with its hit counter.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

int run_dns(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 1);
    if (!parsed.values) return parsed.exit_code;
    const auto network = operands(*parsed.values);
    if (network.empty()) return usage_error(ctx, "NETWORK is required");
    return print_result(ctx, ctx.call("dns.show", {{"network", network.front()}}), [](const nlohmann::json& r) {
        TablePrinter table({"name", "ip", "hits"});
        for (const auto& e : r["records"]) table.add_row({cell(e["name"]), cell(e["ip"]), cell(e["hits"])});
        table.print(std::cout);
    });
}

}  // namespace dpdock::cli
