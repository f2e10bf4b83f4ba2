// CommandRegistry: command name -> handler, and the argument helpers every
// handler uses so that unknown or wrong-typed arguments are refused with the
// same clear wording everywhere. dispatch() turns any request into a response
// envelope and never throws: handler errors, and json type errors thrown by
// a handler that read an argument carelessly, become {"ok":false,...}.
// Threading: fill it before serving; dispatch() runs on the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/util/status.hpp"

namespace dpdock::control {

// Who sent the request being dispatched. Privileged: root or the daemon's own
// user, who may do anything; the others (members of --group) are held to the
// daemon's AccessPolicy (control/access_policy.hpp).
struct Caller {
    bool privileged = true;
};

class CommandRegistry {
public:
    using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& args)>;

    // Registers the built-in "help" (names and summaries of all commands).
    CommandRegistry();
    // "help" refers back to its registry, so a registry stays where it was built.
    CommandRegistry(const CommandRegistry&) = delete;
    CommandRegistry& operator=(const CommandRegistry&) = delete;

    // Names are unique; registering a name twice replaces the first handler.
    void add(std::string name, std::string summary, Handler handler);
    bool contains(std::string_view name) const;

    // request: a parsed request line; returns the response envelope. During
    // the handler, caller() is `caller`.
    nlohmann::json dispatch(nlohmann::json request, Caller caller = {}) const;
    const Caller& caller() const { return caller_; }

private:
    struct Command {
        std::string summary;
        Handler handler;
    };
    std::map<std::string, Command, std::less<>> commands_;
    mutable Caller caller_;  // of the request being dispatched (control thread only)
};

// Argument helpers. `args` is the request's args object; errors name the key.
// For the optional ones an absent key and a JSON null both mean "not given".
Result<std::string> require_string(const nlohmann::json& args, std::string_view key);
Result<std::int64_t> require_int(const nlohmann::json& args, std::string_view key);
Result<std::optional<std::string>> optional_string(const nlohmann::json& args, std::string_view key);
Result<std::optional<std::int64_t>> optional_int(const nlohmann::json& args, std::string_view key);
Result<std::optional<bool>> optional_bool(const nlohmann::json& args, std::string_view key);
// Refuses any key not in `allowed` ("unknown argument \"x\" (allowed: a, b)").
Status reject_unknown_keys(const nlohmann::json& args, std::initializer_list<std::string_view> allowed);

}  // namespace dpdock::control
