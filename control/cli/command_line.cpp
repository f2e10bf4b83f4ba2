#include "control/cli/command_line.hpp"

#include <cstdio>
#include <iostream>

#include "control/cli/client.hpp"

namespace dpdock::cli {

void validate(boost::any& value, const std::vector<std::string>& tokens, Format*, int) {
    po::validators::check_first_occurrence(value);
    const std::string& token = po::validators::get_single_string(tokens);
    if (token == "table") {
        value = Format::Table;
    } else if (token == "json") {
        value = Format::Json;
    } else {
        throw po::invalid_option_value(token);
    }
}

Result<nlohmann::json> Context::call(std::string_view cmd, const nlohmann::json& args) const {
    auto client = Client::connect(socket_path, timeout);
    if (!client) return client.status();
    return client->request(cmd, args);
}

po::options_description global_options(Context& ctx) {
    po::options_description options("Global options");
    options.add_options()
        ("socket", po::value<std::string>(&ctx.socket_path)->value_name("PATH"),
         "dpdockd's control socket (default $DPDOCK_SOCKET or /run/dpdock/dpdock.sock)")
        ("format", po::value<Format>(&ctx.format)->value_name("table|json"), "output for people or for scripts")
        ("help,h", "show help");
    return options;
}

namespace {

std::string usage_line(const Subcommand& command) {
    std::string line = "Usage: dpdock " + std::string(command.name);
    if (!command.usage.empty()) line += " " + std::string(command.usage);
    return line;
}

}  // namespace

ParsedArgs parse_args(Context& ctx, const std::vector<std::string>& args, const po::options_description& options,
                      const po::positional_options_description& positional, const po::options_description& hidden) {
    const po::options_description global = global_options(ctx);
    po::options_description all;
    all.add(options).add(global).add(hidden);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& e) {
        return {std::nullopt, usage_error(ctx, e.what())};
    }
    if (values.count("help")) {
        std::cout << usage_line(*ctx.command) << "\n\n" << ctx.command->summary << "\n\n";
        if (!options.options().empty()) std::cout << options << "\n";
        std::cout << global;
        return {std::nullopt, kExitOk};
    }
    return {std::move(values), kExitOk};
}

namespace {
constexpr const char* kOperands = "operands";
}  // namespace

ParsedArgs parse_args_with_operands(Context& ctx, const std::vector<std::string>& args,
                                    const po::options_description& options, int max_operands) {
    po::options_description hidden;
    hidden.add_options()(kOperands, po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add(kOperands, max_operands);
    return parse_args(ctx, args, options, positional, hidden);
}

std::vector<std::string> operands(const po::variables_map& values) {
    return values.count(kOperands) ? values[kOperands].as<std::vector<std::string>>() : std::vector<std::string>{};
}

int print_result(const Context& ctx, const Result<nlohmann::json>& result,
                 const std::function<void(const nlohmann::json&)>& for_people) {
    if (!result) return report_error(result.status());
    if (ctx.format == Format::Json) {
        print_json(std::cout, *result);
    } else {
        for_people(*result);
    }
    return kExitOk;
}

void print_name(const nlohmann::json& result) { std::cout << cell(result["name"]) << "\n"; }

int usage_error(const Context& ctx, std::string_view message) {
    std::cerr << "Error: " << message << "\n"
              << usage_line(*ctx.command) << "\n"
              << "Run 'dpdock " << ctx.command->name << " --help' for more information.\n";
    return kExitUsage;
}

int report_error(const Status& status) {
    std::cerr << "Error: " << status.message() << "\n";
    return kExitError;
}

void print_json(std::ostream& out, const nlohmann::json& value) {
    out << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string cell(const nlohmann::json& value) {
    if (value.is_null()) return "-";
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_float()) {
        char text[32];
        std::snprintf(text, sizeof text, "%.1f", value.get<double>());
        return text;
    }
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dpdock::cli
