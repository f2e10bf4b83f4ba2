// Helpers for the control tests: a ControlServer with a small test registry
// running its EventLoop on its own thread over a socket in a private temp
// directory, and a blocking client over a real Unix socket (the shared
// tests/support/line_client.hpp). Everything a test creates is removed by
// destructors, also when the test fails.
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
#include "tests/support/line_client.hpp"

namespace dpdock::control::test {

using nlohmann::json;
using namespace std::chrono_literals;

// Generous bound on every wait: a test fails instead of hanging; no test asserts on timing.
constexpr auto kWait = dpdock::test::kLineClientWait;

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
    registry.add("whoami", "whether the caller is privileged (root or our own user)",
                 [&registry](const json&) -> Result<json> { return json{{"privileged", registry.caller().privileged}}; });
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

// The blocking client is shared with the integration tests.
using dpdock::test::connect_unix;
using TestClient = dpdock::test::LineClient;

}  // namespace dpdock::control::test
