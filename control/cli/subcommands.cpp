#include "control/cli/subcommands.hpp"

#include <array>

namespace dpdock::cli {

std::span<const Subcommand> subcommands() {
    static constexpr std::array kTable{
        Subcommand{"raw", "COMMAND [JSON-ARGS]", "Send any control command (see `dpdock raw help`) and print its JSON result", run_raw},
        Subcommand{"stats", "[--watch]", "Show packet counters per port, per drop reason and per worker",
                   run_stats},
        Subcommand{"version", "", "Show the CLI's and the daemon's versions", run_version},
    };
    return kTable;
}

}  // namespace dpdock::cli
