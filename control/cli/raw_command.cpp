// dpdock raw COMMAND [JSON-ARGS]: any control command, result printed as JSON.
// For scripts and debugging; the command names are those of `dpdock raw help`.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/protocol.hpp"

namespace dpdock::cli {

int run_raw(Context& ctx, const std::vector<std::string>& args) {
    po::options_description arguments;
    arguments.add_options()("command", po::value<std::string>())("json-args", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("command", 1).add("json-args", 1);
    auto parsed = parse_args(ctx, args, po::options_description(), positional, arguments);
    if (!parsed.values) return parsed.exit_code;
    const po::variables_map& values = *parsed.values;
    if (!values.count("command")) return usage_error(ctx, "missing COMMAND");

    nlohmann::json request_args = nlohmann::json::object();
    if (values.count("json-args")) {
        auto json_args = control::parse_json_line(values["json-args"].as<std::string>());
        if (!json_args) return usage_error(ctx, "JSON-ARGS: " + json_args.message());
        if (!json_args->is_object()) return usage_error(ctx, "JSON-ARGS must be a JSON object");
        request_args = std::move(*json_args);
    }
    auto result = ctx.call(values["command"].as<std::string>(), request_args);
    if (!result) return report_error(result.status());
    print_json(std::cout, *result);
    return kExitOk;
}

}  // namespace dpdock::cli
