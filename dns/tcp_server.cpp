#include "dns/tcp_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dpdock::dns {
namespace {

constexpr int kBacklog = 16;
constexpr std::size_t kReadChunk = 4096;

int open_listener(Ipv4Address ip, std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // a restart while old connections linger
    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);   // dpdock0 gets the address after this
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(ip.host());
    if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || listen(fd, kBacklog) != 0) {
        const int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

}  // namespace

TcpServer::~TcpServer() {
    for (auto& [id, c] : connections_) close(c.fd);
    for (auto& [network, l] : listeners_) close(l.fd);
}

void TcpServer::listen_on(const std::map<NetworkId, Ipv4Cidr>& gateways, std::uint16_t port) {
    // A failed bind is remembered only while its gateway is wanted: one of a
    // network since removed is neither retried nor kept from being logged again.
    std::set<std::string> wanted;
    for (const auto& [network, gateway] : gateways) {
        wanted.insert(gateway.address().to_string() + ":" + std::to_string(port));
    }
    std::erase_if(bind_failed_, [&](const std::string& at) { return !wanted.contains(at); });
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        auto want = gateways.find(it->first);
        if (want != gateways.end() && want->second == it->second.gateway) {
            ++it;
            continue;
        }
        std::vector<std::uint64_t> gone;
        for (const auto& [id, c] : connections_) {
            if (c.network == it->first) gone.push_back(id);
        }
        for (std::uint64_t id : gone) close_connection(id);
        close(it->second.fd);
        it = listeners_.erase(it);
    }
    for (const auto& [network, gateway] : gateways) {
        if (listeners_.contains(network)) continue;
        const std::string at = gateway.address().to_string() + ":" + std::to_string(port);
        const int fd = open_listener(gateway.address(), port);
        if (fd < 0) {
            if (bind_failed_.insert(at).second) {
                std::fprintf(stderr, "dpdockd: dns: cannot listen on tcp %s: %s\n", at.c_str(), std::strerror(errno));
            }
            continue;
        }
        bind_failed_.erase(at);
        listeners_[network] = Listener{fd, gateway};
    }
}

void TcpServer::add_poll_fds(std::vector<pollfd>& fds) const {
    for (const auto& [network, l] : listeners_) fds.push_back({l.fd, POLLIN, 0});
    for (const auto& [id, c] : connections_) {
        fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
    }
}

void TcpServer::accept_from(NetworkId network, const Listener& l) {
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        const Ipv4Address asker(ntohl(peer.sin_addr.s_addr));
        std::size_t of_network = 0;
        std::size_t of_asker = 0;
        for (const auto& [id, c] : connections_) {
            of_network += c.network == network ? 1 : 0;
            of_asker += c.asker == asker ? 1 : 0;
        }
        if (connections_.size() >= kMaxTcpConnections || of_network >= kMaxTcpPerNetwork ||
            of_asker >= kMaxTcpPerAsker || !l.gateway.contains(asker)) {
            bump(counters_.tcp_rejected);
            close(fd);
            continue;
        }
        bump(counters_.tcp_connections);
        const std::uint64_t id = next_id_++;
        connections_[id] = Connection{fd, network, asker, {}, {}, Clock::now(), false};
        by_fd_[fd] = id;
    }
}

bool TcpServer::read_from(std::uint64_t id, Connection& c, std::vector<TcpQuery>& out) {
    std::array<std::uint8_t, kReadChunk> buf;
    const ssize_t n = recv(c.fd, buf.data(), buf.size(), 0);
    if (n == 0) {
        c.peer_closed = true;
        return false;
    }
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.in.insert(c.in.end(), buf.begin(), buf.begin() + n);
    // Every complete message; a partial one waits (at most 2 + 65535 bytes).
    std::size_t at = 0;
    while (c.in.size() - at >= 2) {
        const std::size_t len = static_cast<std::size_t>(c.in[at] << 8 | c.in[at + 1]);
        if (c.in.size() - at - 2 < len) break;
        const auto first = c.in.begin() + static_cast<std::ptrdiff_t>(at + 2);
        out.push_back(TcpQuery{id, c.network, c.asker, {first, first + static_cast<std::ptrdiff_t>(len)}});
        at += 2 + len;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(at));
    if (at != 0) c.last = Clock::now();  // only a complete query keeps the connection
    return true;
}

bool TcpServer::flush(Connection& c) {
    if (c.out.empty()) return true;
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out.erase(c.out.begin(), c.out.begin() + n);
    return true;
}

void TcpServer::serve(std::span<const pollfd> fds, std::vector<TcpQuery>& out) {
    std::vector<std::uint64_t> broken;
    for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        auto conn = by_fd_.find(p.fd);
        if (conn == by_fd_.end()) {
            for (const auto& [network, l] : listeners_) {
                if (l.fd == p.fd) accept_from(network, l);
            }
            continue;
        }
        Connection& c = connections_.at(conn->second);
        const bool ok = (p.revents & (POLLERR | POLLNVAL)) == 0 && ((p.revents & (POLLIN | POLLHUP)) == 0 ||
                                                                     read_from(conn->second, c, out)) &&
                        flush(c);
        if (!ok) broken.push_back(conn->second);
    }
    const Clock::time_point idle_since = Clock::now() - idle_;
    for (const auto& [id, c] : connections_) {
        if (c.last < idle_since) broken.push_back(id);
    }
    for (std::uint64_t id : broken) {
        auto it = connections_.find(id);
        if (it == connections_.end()) continue;
        if (!it->second.peer_closed) bump(counters_.tcp_dropped);
        close_connection(id);
    }
}

void TcpServer::send(std::uint64_t connection, std::span<const std::uint8_t> message) {
    auto it = connections_.find(connection);
    if (it == connections_.end() || message.empty() || message.size() > 0xffff) return;
    Connection& c = it->second;
    if (c.out.size() + 2 + message.size() > kMaxTcpPending) {
        bump(counters_.tcp_dropped);
        close_connection(connection);
        return;
    }
    c.out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    c.out.push_back(static_cast<std::uint8_t>(message.size()));
    c.out.insert(c.out.end(), message.begin(), message.end());
    if (!flush(c)) {
        bump(counters_.tcp_dropped);
        close_connection(connection);
    }
}

void TcpServer::close_connection(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    by_fd_.erase(it->second.fd);
    close(it->second.fd);
    connections_.erase(it);
}

}  // namespace dpdock::dns
