// Driver against a dpdockd whose answers lack fields or have the wrong shape
// (a fake daemon on a Unix socket, one canned answer per command): every
// call gets an {"Err": ...} answer, never a read past the JSON (before, the
// const operator[] of a missing key read through std::map's end).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/docker/driver.hpp"

namespace dpdock::docker {
namespace {

using nlohmann::json;

// Answers each request line with {"ok":true,"result":answers[cmd]}
// ({"ok":true,"result":{}} for a command it was not given), one connection
// at a time, until destroyed.
class FakeDaemon {
public:
    FakeDaemon(std::string path, std::map<std::string, json> answers)
        : path_(std::move(path)), answers_(std::move(answers)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
        ::unlink(path_.c_str());
        listening_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 4) == 0;
        if (listening_) thread_ = std::thread([this] { serve(); });
    }
    ~FakeDaemon() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    bool listening() const { return listening_; }

private:
    void serve() {
        while (!stop_) {
            const int conn = ::accept(fd_, nullptr, nullptr);
            if (conn < 0) return;
            std::string buffer;
            char chunk[4096];
            for (ssize_t n; (n = ::read(conn, chunk, sizeof chunk)) > 0;) {
                buffer.append(chunk, static_cast<std::size_t>(n));
                for (std::size_t end; (end = buffer.find('\n')) != std::string::npos;) {
                    const json request = json::parse(buffer.substr(0, end), nullptr, false);
                    buffer.erase(0, end + 1);
                    const std::string cmd = request.is_object() ? request.value("cmd", "") : "";
                    const auto it = answers_.find(cmd);
                    const std::string line =
                        json{{"ok", true}, {"result", it != answers_.end() ? it->second : json::object()}}.dump() + "\n";
                    if (::write(conn, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
                }
            }
            ::close(conn);
        }
    }
    std::string path_;
    std::map<std::string, json> answers_;
    int fd_ = -1;
    bool listening_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

const std::string kEndpoint = "0123456789abcdef";
const std::string kName = "docker-" + kEndpoint.substr(0, 12);

std::string socket_path() { return "/tmp/dpdock-driver-answers-" + std::to_string(::getpid()) + ".sock"; }

// The Err of `method` with `body` against a daemon giving `answers`.
std::string error_of(const std::map<std::string, json>& answers, const std::string& method, const json& body) {
    FakeDaemon daemon(socket_path(), answers);
    EXPECT_TRUE(daemon.listening());
    Driver driver(socket_path(), "/proc/self/ns/net", false);
    const auto answer = driver.handle(method, body);
    EXPECT_TRUE(answer.has_value());
    if (!answer || !answer->contains("Err")) return "";
    return answer->at("Err").get<std::string>();
}

TEST(DriverAnswersTest, AContainerListedWithoutItsFieldsIsAnErrorAnswer) {
    const json join = {{"NetworkID", "abc"}, {"EndpointID", kEndpoint}, {"SandboxKey", "/x"}};
    // No "networks": the endpoint is not found.
    EXPECT_NE(error_of({{"container.ps", json::array({{{"name", kName}}})}}, "NetworkDriver.Join", join), "");
    // Not an object at all.
    EXPECT_NE(error_of({{"container.ps", json::array({"junk", 7})}}, "NetworkDriver.Join", join), "");
    // A network without its interface and gateway.
    const json bare = json::array({{{"name", kName}, {"networks", json::array({{{"network", "n"}}})}}});
    EXPECT_NE(error_of({{"container.ps", bare}, {"network.ls", json::array({{{"name", "n"}}})}}, "NetworkDriver.Join",
                       join),
              "");
    // Oper info reads the MAC.
    EXPECT_NE(error_of({{"container.ps", bare}, {"container.port", json::array()}}, "NetworkDriver.EndpointOperInfo",
                       join),
              "");
}

TEST(DriverAnswersTest, AnAttachAnswerWithoutItsAddressIsAnErrorAnswer) {
    const json create = {{"NetworkID", "abc"}, {"EndpointID", kEndpoint}, {"Interface", json::object()}};
    EXPECT_NE(error_of({{"container.attach", json::object()}}, "NetworkDriver.CreateEndpoint", create), "");
    EXPECT_NE(error_of({{"container.attach", {{"networks", json::array({json::object()})}}}},
                       "NetworkDriver.CreateEndpoint", create),
              "");
}

}  // namespace
}  // namespace dpdock::docker
