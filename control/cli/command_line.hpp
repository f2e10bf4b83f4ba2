// The CLI's shared plumbing: the per-invocation Context (socket, output
// format, the running subcommand), the subcommand entry type, argument parsing
// with uniform usage errors, and output helpers. Exit codes are the same for
// every subcommand: 0 success, 1 daemon or connection error ("Error: ..." on
// stderr), 2 usage error. Single-threaded, like the whole CLI.
#pragma once

#include <boost/any.hpp>
#include <boost/program_options.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/util/status.hpp"

namespace dpdock::cli {

namespace po = boost::program_options;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

inline constexpr std::string_view kDefaultSocketPath = "/run/dpdock/dpdock.sock";
inline constexpr std::string_view kSocketEnv = "DPDOCK_SOCKET";

enum class Format { Table, Json };
// Found by Boost.Program_options through ADL: parses --format table|json.
void validate(boost::any& value, const std::vector<std::string>& tokens, Format*, int);

struct Context;

// One row of the subcommand table (subcommands.cpp).
struct Subcommand {
    std::string_view name;
    std::string_view usage;  // what follows "dpdock <name> ", e.g. "[--watch]"
    std::string_view summary;
    int (*run)(Context& ctx, const std::vector<std::string>& args);
};

struct Context {
    std::string socket_path;
    Format format = Format::Table;
    std::chrono::milliseconds timeout = std::chrono::seconds(30);
    const Subcommand* command = nullptr;  // the one being run

    // One request on a fresh connection: the daemon's result, or an error worded for the user.
    Result<nlohmann::json> call(std::string_view cmd, const nlohmann::json& args = nlohmann::json::object()) const;
};

// --socket, --format and --help: accepted before the subcommand and after it.
po::options_description global_options(Context& ctx);

struct ParsedArgs {
    std::optional<po::variables_map> values;  // nullopt: exit now with exit_code
    int exit_code = kExitOk;
};
// Parses a subcommand's arguments: its own options, the global ones, and
// `hidden` ones (the targets of positional arguments, left out of --help).
// Prints the help or the usage error itself.
ParsedArgs parse_args(Context& ctx, const std::vector<std::string>& args, const po::options_description& options,
                      const po::positional_options_description& positional = {},
                      const po::options_description& hidden = po::options_description());

// parse_args() for subcommands whose positional arguments (at most
// `max_operands`, -1 for any number) are read back with operands().
ParsedArgs parse_args_with_operands(Context& ctx, const std::vector<std::string>& args,
                                    const po::options_description& options, int max_operands);
std::vector<std::string> operands(const po::variables_map& values);

// The end of most subcommands: the daemon's answer printed as JSON under
// --format json, or by `for_people` otherwise; a failed call is reported.
int print_result(const Context& ctx, const Result<nlohmann::json>& result,
                 const std::function<void(const nlohmann::json&)>& for_people);

// For people, a created or removed object is its name on a line (like docker).
void print_name(const nlohmann::json& result);

// "Error: <message>" and the subcommand's usage on stderr; returns kExitUsage.
int usage_error(const Context& ctx, std::string_view message);
// "Error: <message>" on stderr; returns kExitError.
int report_error(const Status& status);

void print_json(std::ostream& out, const nlohmann::json& value);
// A JSON value as a table cell: numbers and strings plain, missing or null as "-".
std::string cell(const nlohmann::json& value);

}  // namespace dpdock::cli
