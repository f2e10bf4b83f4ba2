#include "tests/support/fake_daemon.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace dpdock::test {

using nlohmann::json;

FakeDaemon::FakeDaemon(std::string path, std::map<std::string, json> answers)
    : path_(std::move(path)), answers_(std::move(answers)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
    ::unlink(path_.c_str());
    listening_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 4) == 0;
    if (listening_) thread_ = std::thread([this] { serve(); });
}

FakeDaemon::~FakeDaemon() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // ends the accept()
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
}

void FakeDaemon::serve() {
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

}  // namespace dpdock::test
