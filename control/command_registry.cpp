#include "control/command_registry.hpp"

#include <exception>
#include <limits>
#include <utility>

#include "control/protocol.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// nlohmann's what() starts with "[json.exception.type_error.302] "; people need only the rest.
std::string readable(const json::exception& e) {
    std::string_view what = e.what();
    if (!what.empty() && what.front() == '[') {
        if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    return std::string(what);
}

const json* find_arg(const json& args, std::string_view key) {
    if (!args.is_object()) return nullptr;
    auto it = args.find(key);
    return it == args.end() ? nullptr : &*it;
}

Result<std::int64_t> to_int(const json& value, std::string_view key) {
    if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<std::int64_t>();
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(value.get<std::uint64_t>());
    }
    return Result<std::int64_t>::error("argument " + in_quotes(key) + " must be an integer");
}

}  // namespace

CommandRegistry::CommandRegistry() {
    add("help", "list the commands this daemon understands", [this](const json& args) -> Result<json> {
        if (auto st = reject_unknown_keys(args, {}); !st) return st;
        json commands = json::array();
        for (const auto& [name, command] : commands_) commands.push_back({{"name", name}, {"summary", command.summary}});
        return json{{"commands", std::move(commands)}};
    });
}

void CommandRegistry::add(std::string name, std::string summary, Handler handler) {
    commands_[std::move(name)] = Command{std::move(summary), std::move(handler)};
}

bool CommandRegistry::contains(std::string_view name) const { return commands_.find(name) != commands_.end(); }

json CommandRegistry::dispatch(json request, Caller caller) const {
    caller_ = caller;
    auto parsed = parse_request(std::move(request));
    if (!parsed) return error_response(parsed.message());
    auto it = commands_.find(parsed->cmd);
    if (it == commands_.end()) return error_response("unknown command " + in_quotes(parsed->cmd));
    try {
        auto result = it->second.handler(parsed->args);
        if (!result) return error_response(result.message());
        return ok_response(std::move(*result));
    } catch (const json::exception& e) {
        return error_response("invalid arguments for " + in_quotes(parsed->cmd) + ": " + readable(e));
    } catch (const std::exception& e) {
        // A handler bug must cost one request, not the daemon and every container's network.
        return error_response("internal error in " + in_quotes(parsed->cmd) + ": " + e.what());
    }
}

Result<std::string> require_string(const json& args, std::string_view key) {
    const json* value = find_arg(args, key);
    if (value == nullptr) return Result<std::string>::error("missing argument " + in_quotes(key));
    if (!value->is_string()) return Result<std::string>::error("argument " + in_quotes(key) + " must be a string");
    return value->get<std::string>();
}

Result<std::int64_t> require_int(const json& args, std::string_view key) {
    const json* value = find_arg(args, key);
    if (value == nullptr) return Result<std::int64_t>::error("missing argument " + in_quotes(key));
    return to_int(*value, key);
}

Result<std::optional<std::string>> optional_string(const json& args, std::string_view key) {
    using R = Result<std::optional<std::string>>;
    const json* value = find_arg(args, key);
    if (value == nullptr || value->is_null()) return R(std::optional<std::string>());
    if (!value->is_string()) return R::error("argument " + in_quotes(key) + " must be a string");
    return R(value->get<std::string>());
}

Result<std::optional<std::int64_t>> optional_int(const json& args, std::string_view key) {
    using R = Result<std::optional<std::int64_t>>;
    const json* value = find_arg(args, key);
    if (value == nullptr || value->is_null()) return R(std::optional<std::int64_t>());
    auto n = to_int(*value, key);
    if (!n) return R(n.status());
    return R(*n);
}

Result<std::optional<bool>> optional_bool(const json& args, std::string_view key) {
    using R = Result<std::optional<bool>>;
    const json* value = find_arg(args, key);
    if (value == nullptr || value->is_null()) return R(std::optional<bool>());
    if (!value->is_boolean()) return R::error("argument " + in_quotes(key) + " must be true or false");
    return R(value->get<bool>());
}

Status reject_unknown_keys(const json& args, std::initializer_list<std::string_view> allowed) {
    if (!args.is_object()) return Status::error("arguments must be an object");
    for (const auto& [key, value] : args.items()) {
        bool known = false;
        for (std::string_view name : allowed) known = known || name == key;
        if (known) continue;
        std::string message = "unknown argument " + in_quotes(key);
        if (allowed.size() == 0) {
            message += " (this command takes no arguments)";
        } else {
            message += " (allowed: ";
            const char* separator = "";
            for (std::string_view name : allowed) {
                message += separator;
                message += name;
                separator = ", ";
            }
            message += ")";
        }
        return Status::error(std::move(message));
    }
    return {};
}

}  // namespace dpdock::control
