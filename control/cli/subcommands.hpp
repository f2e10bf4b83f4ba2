// The subcommand table. Adding a subcommand = one file under control/cli/
// with its run function, its declaration here, and one row in subcommands.cpp.
// A subcommand parses its own arguments with parse_args() and returns an exit code.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "control/cli/command_line.hpp"

namespace dpdock::cli {

// Sorted by name; the order of `dpdock --help`.
std::span<const Subcommand> subcommands();

int run_raw(Context& ctx, const std::vector<std::string>& args);      // raw_command.cpp
int run_stats(Context& ctx, const std::vector<std::string>& args);    // stats_command.cpp
int run_version(Context& ctx, const std::vector<std::string>& args);  // version_command.cpp

}  // namespace dpdock::cli
