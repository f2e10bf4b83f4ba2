// dpdock version: the CLI's version, then whatever the daemon's "version" reports.
#include <iostream>

#include "control/cli/subcommands.hpp"

namespace dpdock::cli {

int run_version(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args(ctx, args, po::options_description());
    if (!parsed.values) return parsed.exit_code;

    const nlohmann::json client = {{"version", DPDOCK_VERSION}};
    auto server = ctx.call("version");
    if (ctx.format == Format::Json) {
        if (!server) return report_error(server.status());
        print_json(std::cout, {{"client", client}, {"server", *server}});
        return kExitOk;
    }
    // Like `docker version`: the client half is useful even when the daemon is down.
    std::cout << "Client:\n  version: " << DPDOCK_VERSION << "\n";
    if (!server) return report_error(server.status());
    std::cout << "Server:\n";
    if (server->is_object()) {
        for (const auto& [key, value] : server->items()) std::cout << "  " << key << ": " << cell(value) << "\n";
    } else {
        std::cout << "  " << cell(*server) << "\n";
    }
    return kExitOk;
}

}  // namespace dpdock::cli
