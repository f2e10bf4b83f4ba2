#include "control/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "control/protocol.hpp"

namespace dpdock::control {
namespace {

using Clock = std::chrono::steady_clock;

// While a client has this much unsent output its requests wait unanswered;
// they are still read (up to max_input_bytes), so a client that writes all its
// requests before reading any answer is not deadlocked against us.
constexpr std::size_t kPauseAnsweringBytes = 256 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 16;      // then yield to other clients
constexpr int kAcceptsPerEvent = 64;

std::string errno_text(int err) { return std::strerror(err); }

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return Result<sockaddr_un>::error("socket path \"" + path + "\" must be 1 to " +
                                          std::to_string(sizeof(addr.sun_path) - 1) + " bytes long");
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

// An existing file at the socket path is removed only when it is a socket
// nobody accepts on (a daemon that died); a live daemon is never displaced.
Status clear_stale_socket(const std::string& path, const sockaddr_un& addr) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return Status::error("cannot stat " + path + ": " + errno_text(errno));
    }
    if (!S_ISSOCK(st.st_mode)) return Status::error(path + " exists and is not a socket");
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return Status::error("socket: " + errno_text(errno));
    const int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    close(probe);
    if (rc == 0 || err == EAGAIN) return Status::error("another dpdockd is already serving " + path);
    if (err != ECONNREFUSED) return Status::error("cannot probe existing socket " + path + ": " + errno_text(err));
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Status::error("cannot remove stale socket " + path + ": " + errno_text(errno));
    }
    return {};
}

// For clients refused before they get a Client: best effort, the socket's
// buffer is empty so one short line always fits.
void send_and_close(int fd, std::string_view message) {
    const std::string line = encode_line(error_response(message));
    [[maybe_unused]] ssize_t n = send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

}  // namespace

struct ControlServer::Client {
    int fd;
    std::string in;            // received bytes not yet consumed as lines
    std::size_t scanned = 0;   // prefix of `in` known to contain no '\n'
    std::string out;           // responses; out[0, sent) is already written
    std::size_t sent = 0;
    Caller caller;             // from its peer credentials, fixed for the connection
    std::uint32_t interest = EPOLLIN;
    Clock::time_point last_progress = Clock::now();
    bool eof = false;          // peer shut down its side: answer what we have, then close
    bool closing = false;      // refuse further requests; close once `out` is flushed
    bool dead = false;         // close now

    std::size_t pending() const { return out.size() - sent; }
    bool answering_paused() const { return pending() >= kPauseAnsweringBytes; }
};

ControlServer::ControlServer(EventLoop& loop, const CommandRegistry& registry, ServerOptions options)
    : loop_(loop), registry_(registry), options_(std::move(options)) {}

ControlServer::~ControlServer() {
    if (idle_timer_) loop_.cancel(*idle_timer_);
    for (auto& [fd, client] : clients_) {
        loop_.remove(fd);
        close(fd);
    }
    clients_.clear();
    if (listen_fd_ < 0) return;
    loop_.remove(listen_fd_);
    close(listen_fd_);
    struct stat st {};
    if (lstat(options_.path.c_str(), &st) == 0 && st.st_ino == socket_inode_) unlink(options_.path.c_str());
}

Status ControlServer::start() {
    if (listen_fd_ >= 0) return Status::error("control server already started");
    auto addr = unix_address(options_.path);
    if (!addr) return addr.status();

    const std::filesystem::path parent = std::filesystem::path(options_.path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::error("cannot create " + parent.string() + ": " + ec.message());
    if (auto st = clear_stale_socket(options_.path, *addr); !st) return st;

    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::error("socket: " + errno_text(errno));
    auto fail = [&](const std::string& what, bool bound) {
        const int err = errno;
        close(fd);
        if (bound) unlink(options_.path.c_str());
        return Status::error(what + " " + options_.path + ": " + errno_text(err));
    };
    if (bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) return fail("cannot bind", false);
    // Permissions are set before listen(), so no client can connect under the umask's mode.
    if (chmod(options_.path.c_str(), options_.mode) != 0) return fail("cannot chmod", true);
    if (options_.group && chown(options_.path.c_str(), static_cast<uid_t>(-1), *options_.group) != 0) {
        return fail("cannot chown", true);
    }
    struct stat st {};
    if (lstat(options_.path.c_str(), &st) != 0) return fail("cannot stat", true);
    if (listen(fd, SOMAXCONN) != 0) return fail("cannot listen on", true);
    if (auto added = loop_.add(fd, EPOLLIN, [this](std::uint32_t) { on_accept(); }); !added) {
        close(fd);
        unlink(options_.path.c_str());
        return added;
    }
    listen_fd_ = fd;
    socket_inode_ = st.st_ino;
    const auto period = std::clamp<std::chrono::milliseconds>(options_.idle_timeout / 4, std::chrono::milliseconds(10),
                                                              std::chrono::milliseconds(1000));
    idle_timer_ = loop_.run_every(period, [this] { close_idle_clients(); });
    return {};
}

void ControlServer::on_accept() {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            // EAGAIN: drained. EMFILE and the like: the connection waits in the
            // backlog and is retried on the next wake-up; max_clients keeps us
            // far below the fd limit, so this is not expected in practice.
            return;
        }
        const auto caller = peer_caller(fd);
        if (!caller) {
            send_and_close(fd, "permission denied");
            continue;
        }
        if (clients_.size() >= options_.max_clients) {
            send_and_close(fd, "too many clients (limit " + std::to_string(options_.max_clients) + ")");
            continue;
        }
        auto client = std::make_unique<Client>();
        client->fd = fd;
        client->caller = *caller;
        if (!loop_.add(fd, EPOLLIN, [this, fd](std::uint32_t events) { on_client_event(fd, events); })) {
            close(fd);
            continue;
        }
        clients_.emplace(fd, std::move(client));
    }
}

std::optional<Caller> ControlServer::peer_caller(int fd) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
    if (cred.uid == 0 || cred.uid == geteuid()) return Caller{.privileged = true};
    if (!options_.group) return std::nullopt;
    const Caller member{.privileged = false};
    if (cred.gid == *options_.group) return member;
    // Group members usually have the group as a supplementary one (usermod -aG).
    std::vector<gid_t> groups(64);
    len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) {
        if (errno != ERANGE) return std::nullopt;
        groups.resize(len / sizeof(gid_t));
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) return std::nullopt;
    }
    groups.resize(len / sizeof(gid_t));
    if (std::find(groups.begin(), groups.end(), *options_.group) == groups.end()) return std::nullopt;
    return member;
}

void ControlServer::on_client_event(int fd, std::uint32_t events) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    Client& client = *it->second;
    if (events & EPOLLERR) client.dead = true;
    if (!client.dead && (events & (EPOLLIN | EPOLLHUP))) read_from(client);
    // Answer buffered requests and write until the socket is full or no request is left.
    // A pass that found answering paused is no sign of "nothing left": once the
    // flush has drained the output, the buffered requests must be answered now,
    // since no further event may come for them (the client has sent them all).
    for (;;) {
        const std::size_t before = client.in.size();
        const bool was_paused = client.answering_paused();
        process_lines(client);
        flush(client);
        if (client.dead || client.closing || client.pending() > 0) break;
        if (client.in.size() == before && !was_paused) break;
    }
    const bool done = client.closing || (client.eof && client.in.empty());
    if (client.dead || (done && client.pending() == 0)) {
        close_client(fd);
    } else {
        update_interest(client);
    }
}

void ControlServer::read_from(Client& client) {
    std::array<char, kReadChunk> buf;
    for (int i = 0; i < kReadsPerEvent && !client.eof && !client.closing && !client.dead && reading(client); ++i) {
        const ssize_t n = recv(client.fd, buf.data(), buf.size(), 0);
        if (n > 0) {
            client.in.append(buf.data(), static_cast<std::size_t>(n));
            client.last_progress = Clock::now();
        } else if (n == 0) {
            client.eof = true;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK) client.dead = true;
            return;
        }
        process_lines(client);
    }
}

bool ControlServer::reading(const Client& client) const { return client.in.size() < options_.max_input_bytes; }

void ControlServer::process_lines(Client& client) {
    std::size_t start = 0;
    bool rest_has_no_newline = false;
    while (!client.closing && !client.dead && !client.answering_paused()) {
        const std::size_t newline = client.in.find('\n', std::max(start, client.scanned));
        const std::size_t length = (newline == std::string::npos ? client.in.size() : newline) - start;
        if (length > options_.max_request_bytes) {
            // Refused as soon as it is too long: waiting for its end would buffer all of it.
            queue_response(client, error_response("request exceeds the limit of " +
                                                  std::to_string(options_.max_request_bytes) + " bytes"));
            client.closing = true;
            client.in.clear();
            return;
        }
        if (newline == std::string::npos) {
            // A last request may end at EOF without its newline (printf '{...}' | socat).
            if (client.eof && length > 0) {
                handle_line(client, std::string_view(client.in).substr(start, length));
                start = client.in.size();
            }
            rest_has_no_newline = true;
            break;
        }
        handle_line(client, std::string_view(client.in).substr(start, length));
        start = newline + 1;
    }
    client.in.erase(0, start);
    client.scanned = rest_has_no_newline ? client.in.size() : 0;
}

void ControlServer::handle_line(Client& client, std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank lines are not requests
    auto request = parse_json_line(line);
    queue_response(client, request ? registry_.dispatch(std::move(*request), client.caller) : error_response(request.message()));
}

void ControlServer::queue_response(Client& client, const nlohmann::json& response) {
    const std::string line = encode_line(response);
    if (client.pending() + line.size() > options_.max_output_bytes) {
        client.dead = true;  // it has stopped reading: dropping it is the only bound
        return;
    }
    if (client.sent > 0 && client.sent >= client.out.size() / 2) {
        client.out.erase(0, client.sent);
        client.sent = 0;
    }
    client.out += line;
}

void ControlServer::flush(Client& client) {
    while (client.pending() > 0 && !client.dead) {
        const ssize_t n = send(client.fd, client.out.data() + client.sent, client.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            client.sent += static_cast<std::size_t>(n);
            client.last_progress = Clock::now();
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) client.dead = true;
            return;
        }
    }
    if (client.pending() == 0) {
        client.out.clear();
        client.sent = 0;
    }
}

void ControlServer::update_interest(Client& client) {
    std::uint32_t interest = 0;
    if (!client.eof && !client.closing && reading(client)) interest |= EPOLLIN;
    if (client.pending() > 0) interest |= EPOLLOUT;
    if (interest == client.interest) return;
    if (loop_.modify(client.fd, interest)) {
        client.interest = interest;
    } else {
        close_client(client.fd);
    }
}

void ControlServer::close_client(int fd) {
    loop_.remove(fd);
    close(fd);
    clients_.erase(fd);
}

void ControlServer::close_idle_clients() {
    const auto now = Clock::now();
    std::vector<int> idle;
    for (const auto& [fd, client] : clients_) {
        if (now - client->last_progress > options_.idle_timeout) idle.push_back(fd);
    }
    for (int fd : idle) close_client(fd);
}

}  // namespace dpdock::control
