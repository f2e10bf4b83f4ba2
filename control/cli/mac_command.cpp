// dpdock mac [NETWORK]: the MAC table, like `brctl showmacs`: each entry's
// network, address, port, whether it is static, and its age.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

int run_mac(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 1);
    if (!parsed.values) return parsed.exit_code;
    nlohmann::json request = nlohmann::json::object();
    if (const auto network = operands(*parsed.values); !network.empty()) request["network"] = network.front();
    return print_result(ctx, ctx.call("mac.show", request), [](const nlohmann::json& entries) {
        TablePrinter table({"network", "mac", "port", "port id", "static", "age (s)"});
        for (const auto& e : entries) {
            const bool is_static = e.value("static", false);
            table.add_row({cell(e["network"]), cell(e["mac"]), cell(e["port"]), cell(e["port_id"]),
                           is_static ? "yes" : "no", is_static ? "-" : cell(e["age_s"])});
        }
        table.print(std::cout);
    });
}

}  // namespace dpdock::cli
