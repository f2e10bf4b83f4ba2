// ConfigError: one problem in a deployment, located by file, line, column and
// the key path of the offending value (e.g. "networks[1].subnet"). Every config
// error reaches the user through format(), so YAML files, the CLI and the
// control socket all report problems the same way. Plain value type; any thread.
#pragma once

#include <string>
#include <utility>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

struct ConfigError {
    std::string file;
    int line = 0;    // 1-based; 0 when the value did not come from a file
    int column = 0;  // 1-based; 0 when unknown
    std::string key_path;
    std::string message;

    static ConfigError at(const SourcePos& pos, std::string key_path, std::string message) {
        return ConfigError{pos.file, pos.line, pos.column, std::move(key_path), std::move(message)};
    }

    // "file:line:col: key.path: message" for what came from a file; parts that
    // are unknown are left out rather than printed as zeros, since a zero would
    // send people looking. What came from the CLI or the socket is just the
    // message: the user named the container, network or port themselves, and
    // "containers[12].publish[0]" is no word of theirs (messages therefore name
    // the offending value).
    std::string format() const {
        if (file.empty()) return message;
        std::string out = file;
        if (line > 0) {
            out += ':' + std::to_string(line);
            if (column > 0) out += ':' + std::to_string(column);
        }
        out += ": ";
        if (!key_path.empty()) out += key_path + ": ";
        return out + message;
    }

    Status status() const { return Status::error(format()); }
};

}  // namespace dpdock::config
