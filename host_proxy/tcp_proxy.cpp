#include "host_proxy/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace dpdock::host_proxy {
namespace {

// epoll data: (id << 2) | tag.
enum Tag : std::uint64_t { kListenerTag = 0, kClientTag = 1, kServerTag = 2, kWakeTag = 3 };

std::uint64_t key(std::uint64_t id, Tag tag) { return id << 2 | tag; }

sockaddr_in to_sockaddr(Ipv4Address ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = ip.be().raw();
    return a;
}

// Closes with RST (SO_LINGER 0): the peer learns at once that the other side failed.
void reset_and_close(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

}  // namespace

std::string Forward::to_string() const {
    return listen_ip.to_string() + ":" + std::to_string(listen_port) + " -> " + to_ip.to_string() + ":" +
           std::to_string(to_port);
}

TcpProxy::~TcpProxy() {
    if (thread_.joinable()) {
        stop_ = true;
        const std::uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
        thread_.join();
    }
    for (auto& [id, c] : connections_) {
        ::close(c.client);
        ::close(c.server);
    }
    for (auto& [id, l] : listeners_) ::close(l.fd);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status TcpProxy::start_thread() {
    if (thread_.joinable()) return {};
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{EPOLLIN, {}};
    ev.data.u64 = key(0, kWakeTag);
    if (epoll_fd_ < 0 || wake_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
        return Status::error(std::string("host proxy: epoll: ") + std::strerror(errno));
    }
    try {
        thread_ = std::thread([this] { run(); });
        pthread_setname_np(thread_.native_handle(), "dpdock-proxy");  // for top -H and the tests
    } catch (const std::system_error& e) {
        return Status::error(std::string("host proxy: cannot start its thread: ") + e.what());
    }
    return {};
}

Status TcpProxy::add(const Forward& forward) {
    const std::string where = forward.listen_ip.to_string() + ":" + std::to_string(forward.listen_port);
    if (auto st = start_thread(); !st) return st;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::error("Bind for " + where + " failed: " + std::strerror(errno));
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // TIME_WAIT of an earlier run does not block it
    const sockaddr_in addr = to_sockaddr(forward.listen_ip, forward.listen_port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, kListenBacklog) != 0) {
        const int error = errno;
        ::close(fd);
        // Docker's words for a port another program holds in the host's netns.
        return Status::error("Bind for " + where + " failed: " +
                             (error == EADDRINUSE ? std::string("port is already allocated") : std::strerror(error)));
    }
    std::lock_guard lock(mutex_);
    const std::uint64_t id = next_id_++;
    epoll_event ev{EPOLLIN, {}};
    ev.data.u64 = key(id, kListenerTag);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        const int error = errno;
        ::close(fd);
        return Status::error("host proxy for " + forward.to_string() + ": epoll: " + std::strerror(error));
    }
    listeners_.emplace(id, Listener{forward, fd});
    return {};
}

void TcpProxy::remove(const Forward& forward) {
    std::lock_guard lock(mutex_);
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
        if (it->second.forward != forward) continue;
        const std::uint64_t id = it->first;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
        ::close(it->second.fd);
        listeners_.erase(it);
        std::vector<std::uint64_t> accepted;
        for (const auto& [conn_id, c] : connections_) {
            if (c.listener == id) accepted.push_back(conn_id);
        }
        for (const std::uint64_t conn_id : accepted) close_connection(conn_id, false);
        return;
    }
}

std::vector<Forward> TcpProxy::forwards() const {
    std::lock_guard lock(mutex_);
    std::vector<Forward> out;
    for (const auto& [id, l] : listeners_) out.push_back(l.forward);
    return out;
}

void TcpProxy::run() noexcept {
    std::array<epoll_event, 64> events{};
    while (!stop_) {
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
        std::lock_guard lock(mutex_);
        for (int i = 0; i < n; ++i) on_event(events[i].data.u64, events[i].events);
    }
}

void TcpProxy::on_event(std::uint64_t data, std::uint32_t events) {
    const std::uint64_t id = data >> 2;
    switch (static_cast<Tag>(data & 3)) {
    case kWakeTag:
        return;  // stop_ is checked by run()
    case kListenerTag:
        if (auto it = listeners_.find(id); it != listeners_.end()) accept_all(id, it->second);
        return;
    case kClientTag:
    case kServerTag:
        if (auto it = connections_.find(id); it != connections_.end()) {
            service(id, it->second, events, (data & 3) == kServerTag);
        }
        return;
    }
}

void TcpProxy::accept_all(std::uint64_t listener_id, const Listener& l) {
    for (;;) {
        const int client = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) return;  // EAGAIN, or an error of that one connection
        if (connections_.size() >= kMaxConnections) {
            ++counters_.over_limit;
            reset_and_close(client);
            continue;
        }
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const sockaddr_in to = to_sockaddr(l.forward.to_ip, l.forward.to_port);
        if (server < 0 ||
            (::connect(server, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
            ++counters_.connect_failed;
            if (server >= 0) ::close(server);
            reset_and_close(client);
            continue;
        }
        ++counters_.accepted;
        const std::uint64_t id = next_id_++;
        Connection& c = connections_[id];
        c.listener = listener_id;
        c.client = client;
        c.server = server;
        epoll_event ev{0, {}};
        ev.data.u64 = key(id, kClientTag);
        const bool client_ok = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client, &ev) == 0;
        ev.events = c.server_events();
        ev.data.u64 = key(id, kServerTag);
        const bool server_ok = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, server, &ev) == 0;
        counters_.active = connections_.size();
        if (!client_ok || !server_ok) close_connection(id, true);
    }
}

void TcpProxy::service(std::uint64_t conn_id, Connection& c, std::uint32_t events, bool server_side) {
    if (c.connecting) {
        if (!server_side) {
            // The client's socket waits (events 0) until the container answered; only a failure reports here.
            if ((events & (EPOLLERR | EPOLLHUP)) != 0) close_connection(conn_id, true);
            return;
        }
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(c.server, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            ++counters_.connect_failed;
            close_connection(conn_id, true);  // the client sees RST, as if the port were closed
            return;
        }
        c.connecting = false;
    } else if ((events & EPOLLERR) != 0) {
        close_connection(conn_id, true);
        return;
    }
    if ((events & EPOLLHUP) != 0) (server_side ? c.server_hup : c.client_hup) = true;
    if (!transfer(c.client, c.server, c.up) || !transfer(c.server, c.client, c.down)) {
        close_connection(conn_id, true);
        return;
    }
    if (c.done()) {
        close_connection(conn_id, false);
        return;
    }
    rearm(conn_id, c);
}

void TcpProxy::rearm(std::uint64_t conn_id, Connection& c) {
    watch(c.client, c.client_watched, c.client_hup, c.client_events(), key(conn_id, kClientTag));
    watch(c.server, c.server_watched, c.server_hup, c.server_events(), key(conn_id, kServerTag));
}

void TcpProxy::watch(int fd, bool& watched, bool hup, std::uint32_t events, std::uint64_t data) {
    if (events == 0 && hup) {
        if (watched) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        watched = false;
        return;
    }
    epoll_event ev{events, {}};
    ev.data.u64 = data;
    ::epoll_ctl(epoll_fd_, watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    watched = true;
}

void TcpProxy::close_connection(std::uint64_t conn_id, bool reset) {
    auto it = connections_.find(conn_id);
    if (it == connections_.end()) return;
    for (const int fd : {it->second.client, it->second.server}) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        if (reset) {
            reset_and_close(fd);
        } else {
            ::close(fd);
        }
    }
    connections_.erase(it);
    counters_.active = connections_.size();
}

}  // namespace dpdock::host_proxy
