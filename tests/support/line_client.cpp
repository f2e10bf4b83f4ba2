#include "tests/support/line_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dpdock::test {

int connect_unix(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

LineClient::~LineClient() {
    if (fd_ >= 0) close(fd_);
}

bool LineClient::send_raw(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<std::string> LineClient::read_line() {
    const auto deadline = std::chrono::steady_clock::now() + wait_;
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

std::optional<nlohmann::json> LineClient::read_json() {
    auto line = read_line();
    if (!line) return std::nullopt;
    return nlohmann::json::parse(*line, nullptr, false);
}

std::optional<nlohmann::json> LineClient::call(const nlohmann::json& request) {
    if (!send_raw(request.dump() + "\n")) return std::nullopt;
    return read_json();
}

bool LineClient::closed_by_server() {
    const auto deadline = std::chrono::steady_clock::now() + wait_;
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

bool LineClient::wait_readable(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        const int rc = poll(&pfd, 1, static_cast<int>(left.count()));
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return false;
    }
}

}  // namespace dpdock::test
