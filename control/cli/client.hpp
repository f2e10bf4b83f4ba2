// Client: one connection from the `dpdock` CLI to dpdockd's control socket.
// Every wait (connect, send, receive) is bounded by the timeout so a wedged
// daemon cannot hang a script; errors are worded for the person at the shell
// ("dpdockd is not running (no socket at ...)"). Single-threaded use.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/util/status.hpp"

namespace dpdock::cli {

class Client {
public:
    static Result<Client> connect(const std::string& socket_path, std::chrono::milliseconds timeout);

    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    // Sends one request and waits for its response line: the result when the
    // daemon answered ok, else its error message (or a transport error).
    Result<nlohmann::json> request(std::string_view cmd, const nlohmann::json& args = nlohmann::json::object());

private:
    Client(int fd, std::string socket_path, std::chrono::milliseconds timeout);
    Status send_all(const std::string& data, std::chrono::steady_clock::time_point deadline);
    Result<std::string> receive_line(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string socket_path_;
    std::chrono::milliseconds timeout_;
    std::string buffer_;  // bytes received after the last complete line
};

}  // namespace dpdock::cli
