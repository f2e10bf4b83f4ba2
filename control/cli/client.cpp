#include "control/cli/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "control/protocol.hpp"

namespace dpdock::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kConnectRetry{10};

std::string seconds_text(std::chrono::milliseconds timeout) {
    const auto ms = timeout.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

Status connect_error(const std::string& path, int err) {
    switch (err) {
    case ENOENT:
        return Status::error("dpdockd is not running (no socket at " + path + ")");
    case ECONNREFUSED:
        return Status::error("dpdockd is not running (stale socket at " + path + ")");
    case EACCES:
    case EPERM:
        return Status::error("permission denied on " + path + " (run as root or as a member of dpdockd's group)");
    default:
        return Status::error("cannot connect to " + path + ": " + std::strerror(err));
    }
}

}  // namespace

Result<Client> Client::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
        return Result<Client>::error("socket path \"" + socket_path + "\" is empty or too long");
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Result<Client>::error(std::string("socket: ") + std::strerror(errno));
    Client client(fd, socket_path, timeout);

    // A Unix connect() never completes asynchronously: EAGAIN means the
    // daemon's accept backlog is full, so retry until the deadline.
    const auto deadline = Clock::now() + timeout;
    while (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return connect_error(socket_path, errno);
        if (Clock::now() >= deadline) {
            return Result<Client>::error("timed out after " + seconds_text(timeout) + " connecting to dpdockd at " +
                                         socket_path);
        }
        std::this_thread::sleep_for(kConnectRetry);
    }
    return client;
}

Client::Client(int fd, std::string socket_path, std::chrono::milliseconds timeout)
    : fd_(fd), socket_path_(std::move(socket_path)), timeout_(timeout) {}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      socket_path_(std::move(other.socket_path_)),
      timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)) {}

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        socket_path_ = std::move(other.socket_path_);
        timeout_ = other.timeout_;
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

Client::~Client() {
    if (fd_ >= 0) close(fd_);
}

Result<nlohmann::json> Client::request(std::string_view cmd, const nlohmann::json& args) {
    const auto deadline = Clock::now() + timeout_;
    const Status sent = send_all(control::encode_line(control::make_request(cmd, args)), deadline);
    // Even when sending failed the daemon may have said why before closing
    // (e.g. "permission denied"): prefer its words over EPIPE.
    auto line = receive_line(sent ? deadline : Clock::now());
    if (!line) return sent ? line.status() : sent;
    return control::parse_response(*line);
}

Status Client::send_all(const std::string& data, Clock::time_point deadline) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return Status::error("sending to dpdockd failed: " + std::string(std::strerror(errno)));
        pollfd pfd{fd_, POLLOUT, 0};
        if (poll(&pfd, 1, remaining_ms(deadline)) == 0) {
            return Status::error("timed out after " + seconds_text(timeout_) + " sending to dpdockd at " + socket_path_);
        }
    }
    return {};
}

Result<std::string> Client::receive_line(Clock::time_point deadline) {
    std::array<char, 64 * 1024> chunk;
    for (;;) {
        if (auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        const ssize_t n = recv(fd_, chunk.data(), chunk.size(), 0);
        if (n > 0) {
            buffer_.append(chunk.data(), static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) return Result<std::string>::error("dpdockd closed the connection without answering");
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
            return Result<std::string>::error("reading from dpdockd failed: " + std::string(std::strerror(errno)));
        }
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = poll(&pfd, 1, remaining_ms(deadline));
        if (ready == 0) {
            return Result<std::string>::error("no answer from dpdockd within " + seconds_text(timeout_) + " (" +
                                              socket_path_ + ")");
        }
    }
}

}  // namespace dpdock::cli
