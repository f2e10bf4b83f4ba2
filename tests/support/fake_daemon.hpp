// FakeDaemon: a stand-in for dpdockd's control socket in unit tests of its
// clients (the Docker and CNI plugins): answers each request line with
// {"ok":true,"result":answers[cmd]} ({} for a command it was not given), one
// connection at a time, on its own thread until destroyed. For answers
// dpdockd itself would never give (fields missing, wrong types).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace dpdock::test {

class FakeDaemon {
public:
    FakeDaemon(std::string path, std::map<std::string, nlohmann::json> answers);
    ~FakeDaemon();
    FakeDaemon(const FakeDaemon&) = delete;
    FakeDaemon& operator=(const FakeDaemon&) = delete;
    bool listening() const { return listening_; }

private:
    void serve();
    std::string path_;
    std::map<std::string, nlohmann::json> answers_;
    int fd_ = -1;
    bool listening_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace dpdock::test
