// Helpers for the control tests: a ControlServer with a small test registry
// running its EventLoop on its own thread over a socket in a private temp
// directory, and a blocking client over a real Unix socket. Everything a test
// creates is removed by destructors, also when the test fails.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "control/command_registry.hpp"
#include "control/event_loop.hpp"
#include "control/server.hpp"

namespace dpdock::control::test {

using nlohmann::json;
using namespace std::chrono_literals;

// Generous bound on every wait: a test fails instead of hanging; no test asserts on timing.
constexpr auto kWait = 10s;

class TempDir {
public:
    TempDir() {
        std::string templ = "/tmp/dpdock-control-" + std::to_string(getpid()) + "-XXXXXX";
        path_ = mkdtemp(templ.data()) != nullptr ? templ : "";
        if (!path_.empty()) chmod(path_.c_str(), 0755);  // so the tests' unprivileged children can reach the socket
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline void register_test_commands(CommandRegistry& registry) {
    registry.add("echo", "returns its arguments", [](const json& args) -> Result<json> { return args; });
    registry.add("fail", "always fails", [](const json&) -> Result<json> { return Status::error("it failed"); });
    // Reads an argument carelessly, as a buggy handler would: {"n":"x"} throws json::type_error.
    registry.add("careless", "reads n as an int without checking",
                 [](const json& args) -> Result<json> { return json(args.at("n").get<int>() + 1); });
    registry.add("big", "returns a string of `size` bytes", [](const json& args) -> Result<json> {
        auto size = require_int(args, "size");
        if (!size) return size.status();
        return json(std::string(static_cast<std::size_t>(*size), 'x'));
    });
}

class TestServer {
public:
    explicit TestServer(ServerOptions options = {}, std::string socket_name = "ctl.sock") {
        options.path = dir_.path() + "/" + socket_name;
        path_ = options.path;
        register_test_commands(registry_);
        server_ = std::make_unique<ControlServer>(loop_, registry_, std::move(options));
    }
    ~TestServer() { stop(); }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    // Binds, then serves on a thread of its own until stop() or destruction.
    Status start() {
        Status st = server_->start();
        if (st) thread_ = std::thread([this] { loop_.run(stop_); });
        return st;
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        server_.reset();
    }
    CommandRegistry& registry() { return registry_; }
    const std::string& path() const { return path_; }
    const std::string& dir() const { return dir_.path(); }

private:
    TempDir dir_;
    std::string path_;
    EventLoop loop_;
    CommandRegistry registry_;
    std::unique_ptr<ControlServer> server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

inline int connect_unix(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Blocking client with bounded waits.
class TestClient {
public:
    explicit TestClient(const std::string& path) : fd_(connect_unix(path)) {}
    ~TestClient() {
        if (fd_ >= 0) close(fd_);
    }
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    bool send_raw(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // The next line without its '\n'; nullopt on EOF, error or after kWait.
    std::optional<std::string> read_line() {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            if (!wait_readable(deadline)) return std::nullopt;
            char chunk[65536];
            const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    std::optional<json> read_json() {
        auto line = read_line();
        if (!line) return std::nullopt;
        return json::parse(*line, nullptr, false);
    }

    std::optional<json> call(const json& request) {
        if (!send_raw(request.dump() + "\n")) return std::nullopt;
        return read_json();
    }

    // True once the server has closed the connection (EOF or reset), with no further line.
    bool closed_by_server() {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        for (;;) {
            if (!buffer_.empty()) return false;
            if (!wait_readable(deadline)) return false;
            char chunk[4096];
            const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    bool wait_readable(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd pfd{fd_, POLLIN, 0};
            const int rc = poll(&pfd, 1, static_cast<int>(left.count()));
            if (rc > 0) return true;
            if (rc == 0) return false;
            if (errno != EINTR) return false;
        }
    }

    int fd_;
    std::string buffer_;
};

}  // namespace dpdock::control::test
