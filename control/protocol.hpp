// The control protocol's envelope: one JSON object per '\n'-terminated line.
//   request  {"cmd":"network.create","args":{...}}   (args optional, an object)
//   response {"ok":true,"result":...} | {"ok":false,"error":"message"}
// docs/control-protocol.md is the user-facing description. Plain functions,
// no state: callable from any thread. The parts the CLI needs are inline
// here because the `dpdock` executable links no daemon library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/util/json_depth.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

struct Request {
    std::string cmd;
    nlohmann::json args;  // always an object; {} when the request had none
};

// Checks the envelope of an already parsed request; its args are moved, not
// copied (a copy of an untrusted tree would recurse).
Result<Request> parse_request(nlohmann::json request);

nlohmann::json ok_response(nlohmann::json result);
nlohmann::json error_response(std::string_view message);

// Parses one line of JSON; errors read "malformed JSON at byte N: <reason>"
// or "malformed JSON: <reason>". Never throws: any request line, however
// hostile, costs one error answer and nothing else.
inline Result<nlohmann::json> parse_json_line(std::string_view line) {
    if (nests_deeper_than(line, kMaxJsonDepth)) {
        return Result<nlohmann::json>::error("malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
                                             " levels");
    }
    // nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 7: <reason>".
    auto reason_of = [](std::string_view what, std::string_view separator) {
        auto at = what.find(separator);
        return at == std::string_view::npos ? std::string(what) : std::string(what.substr(at + separator.size()));
    };
    try {
        return nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
        std::string message = "malformed JSON at byte " + std::to_string(e.byte);
        if (std::string reason = reason_of(e.what(), ": "); !reason.empty()) message += ": " + reason;
        return Result<nlohmann::json>::error(std::move(message));
    } catch (const nlohmann::json::exception& e) {
        // out_of_range.406 "number overflow parsing '1e999'" and anything else the parser throws.
        return Result<nlohmann::json>::error("malformed JSON: " + reason_of(e.what(), "] "));
    }
}

// One line on the wire. Strings that are not valid UTF-8 are replaced rather
// than thrown on: a handler echoing odd bytes must not take the daemon down.
inline std::string encode_line(const nlohmann::json& message) {
    std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    return line;
}

inline nlohmann::json make_request(std::string_view cmd, nlohmann::json args = nlohmann::json::object()) {
    return {{"cmd", cmd}, {"args", std::move(args)}};
}

// Decodes a response line: the result when ok, else the daemon's error message.
inline Result<nlohmann::json> parse_response(std::string_view line) {
    auto parsed = parse_json_line(line);
    if (!parsed) return Result<nlohmann::json>::error("invalid response from dpdockd: " + parsed.message());
    const nlohmann::json& response = *parsed;
    if (!response.is_object() || !response.contains("ok") || !response["ok"].is_boolean()) {
        return Result<nlohmann::json>::error("invalid response from dpdockd: no boolean \"ok\"");
    }
    if (response["ok"].get<bool>()) return response.contains("result") ? response["result"] : nlohmann::json();
    if (response.contains("error") && response["error"].is_string()) {
        return Result<nlohmann::json>::error(response["error"].get<std::string>());
    }
    return Result<nlohmann::json>::error("dpdockd reported an error without a message");
}

}  // namespace dpdock::control
