// dpdock: the command-line client of dpdockd. Global options come before the
// subcommand (and may be repeated after it); everything after the subcommand's
// name (one word like "ps", or two like "network create") is parsed by the
// subcommand itself (subcommands.hpp).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "control/cli/subcommands.hpp"

namespace {

using namespace dpdock::cli;

void print_main_usage(std::ostream& out, const po::options_description& options) {
    out << "Usage: dpdock [OPTIONS] COMMAND [ARGS...]\n\n"
        << "Manage dpdock, Docker-style container networking on a DPDK dataplane (dpdockd).\n\n"
        << options << "\nCommands:\n";
    std::size_t width = 0;
    for (const Subcommand& command : subcommands()) width = std::max(width, command.name.size());
    for (const Subcommand& command : subcommands()) {
        out << "  " << command.name << std::string(width - command.name.size() + 2, ' ') << command.summary << "\n";
    }
    out << "\nRun 'dpdock COMMAND --help' for more information on a command.\n";
}

// The index of the subcommand's name: the first argument that is neither a
// global option nor the value of one.
int find_command(int argc, char** argv) {
    int i = 1;
    while (i < argc) {
        const std::string arg = argv[i];
        if (arg == "--socket" || arg == "--format") {
            i += 2;
        } else if (arg.size() > 1 && arg[0] == '-') {
            ++i;
        } else {
            break;
        }
    }
    return i;
}

}  // namespace

int main(int argc, char** argv) {
    Context ctx;
    const char* env_socket = std::getenv(std::string(kSocketEnv).c_str());
    ctx.socket_path = env_socket != nullptr && *env_socket != '\0' ? env_socket : std::string(kDefaultSocketPath);

    po::options_description options = global_options(ctx);
    options.add_options()("version", "print the CLI's version and exit");
    const int command_at = std::min(find_command(argc, argv), argc);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(command_at, argv).options(options).run(), values);
        po::notify(values);
    } catch (const po::error& e) {
        std::cerr << "Error: " << e.what() << "\nRun 'dpdock --help' for usage.\n";
        return kExitUsage;
    }
    if (values.count("help")) {
        print_main_usage(std::cout, options);
        return kExitOk;
    }
    if (values.count("version")) {
        std::cout << "dpdock version " << DPDOCK_VERSION << "\n";
        return kExitOk;
    }
    if (command_at >= argc) {
        print_main_usage(std::cerr, options);
        return kExitUsage;
    }

    const std::string first = argv[command_at];
    const bool has_second = command_at + 1 < argc;
    const std::string two_words = has_second ? first + " " + argv[command_at + 1] : first;
    // Two words first: "stats clear" is its own command, not "stats" with an operand.
    for (const int words : {2, 1}) {
        if (words == 2 && !has_second) continue;
        for (const Subcommand& command : subcommands()) {
            if (command.name != (words == 2 ? two_words : first)) continue;
            ctx.command = &command;
            return command.run(ctx, std::vector<std::string>(argv + command_at + words, argv + argc));
        }
    }
    std::cerr << "Error: unknown command \"" << two_words << "\"\n";
    const std::string group = first + " ";
    for (const Subcommand& command : subcommands()) {
        if (command.name.starts_with(group)) std::cerr << "  dpdock " << command.name << " " << command.usage << "\n";
    }
    std::cerr << "Run 'dpdock --help' for the list of commands.\n";
    return kExitUsage;
}
