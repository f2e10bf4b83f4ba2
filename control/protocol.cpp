#include "control/protocol.hpp"

#include <utility>

namespace dpdock::control {

using nlohmann::json;

Result<Request> parse_request(json request) {
    if (!request.is_object()) return Result<Request>::error("request must be an object");
    auto cmd = request.find("cmd");
    if (cmd == request.end()) return Result<Request>::error("missing \"cmd\"");
    if (!cmd->is_string()) return Result<Request>::error("\"cmd\" must be a string");
    for (const auto& [key, value] : request.items()) {
        if (key != "cmd" && key != "args") return Result<Request>::error("unknown request field \"" + key + "\"");
    }
    Request parsed{cmd->get<std::string>(), json::object()};
    if (auto args = request.find("args"); args != request.end()) {
        if (!args->is_object()) return Result<Request>::error("\"args\" must be an object");
        parsed.args = std::move(*args);
    }
    return parsed;
}

json ok_response(json result) { return {{"ok", true}, {"result", std::move(result)}}; }

json error_response(std::string_view message) { return {{"ok", false}, {"error", message}}; }

}  // namespace dpdock::control
