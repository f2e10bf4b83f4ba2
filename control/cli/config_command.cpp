// dpdock config save|reload [FILE]: the running state to and from YAML
// (default FILE: the daemon's --config file).
#include <filesystem>
#include <iostream>

#include "control/cli/subcommands.hpp"

namespace dpdock::cli {
namespace {

int run_config_command(Context& ctx, const std::vector<std::string>& args, const char* cmd, const char* done) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 1);
    if (!parsed.values) return parsed.exit_code;
    nlohmann::json request = nlohmann::json::object();
    // The daemon resolves a path in its own working directory: send it absolute.
    if (const auto file = operands(*parsed.values); !file.empty()) {
        request["path"] = std::filesystem::absolute(file.front()).string();
    }
    return print_result(ctx, ctx.call(cmd, request), [done](const nlohmann::json& result) {
        std::cout << done << " " << cell(result["path"]) << "\n";
    });
}

}  // namespace

int run_config_save(Context& ctx, const std::vector<std::string>& args) {
    return run_config_command(ctx, args, "config.save", "saved to");
}

int run_config_reload(Context& ctx, const std::vector<std::string>& args) {
    return run_config_command(ctx, args, "config.reload", "reloaded from");
}

}  // namespace dpdock::cli
