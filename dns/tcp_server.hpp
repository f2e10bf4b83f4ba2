// DNS over TCP (RFC 7766) at the gateways, for the DNS thread. The dataplane
// has no TCP stack; with the exception path on, TCP to a gateway address the
// dataplane does not serve reaches dpdockd's own kernel through dpdock0, which
// carries every gateway address. So this server listens on port 53 of each
// gateway in dpdockd's namespace (IP_FREEBIND: the listener may come before
// dpdock0 has the address). A connection's network is its listener's, and the
// asker must be inside that network's subnet (a container of another network,
// routed to this gateway, is turned away: names stay isolated). Messages are
// length-prefixed, several per connection, answered in any order. Bounded:
// kMaxTcpConnections (at most kMaxTcpPerNetwork of one network and
// kMaxTcpPerAsker of one address, so no container can take every slot from
// the others), kMaxTcpPending bytes of unread answers, and kTcpIdle without a
// complete query (a client trickling bytes does not keep its slot).
// Threading: the DNS thread only; every socket is non-blocking, so a slow or
// silent client never holds up the UDP path.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/packet/net_types.hpp"
#include "dns/dns_counters.hpp"

namespace dpdock::dns {

inline constexpr std::size_t kMaxTcpConnections = 64;
inline constexpr std::size_t kMaxTcpPerNetwork = kMaxTcpConnections / 4;
inline constexpr std::size_t kMaxTcpPerAsker = 4;
inline constexpr std::size_t kMaxTcpPending = 256 * 1024;  // answers a client has not read yet
inline constexpr std::chrono::milliseconds kTcpIdle{10000};  // RFC 7766 suggests seconds, not minutes

struct TcpQuery {
    std::uint64_t connection = 0;
    NetworkId network = kNoNetwork;
    Ipv4Address asker;
    std::vector<std::uint8_t> message;  // without its length prefix
};

class TcpServer {
public:
    explicit TcpServer(DnsCounters& counters, std::chrono::milliseconds idle = kTcpIdle)
        : counters_(counters), idle_(idle) {}
    ~TcpServer();
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    // Listens on `port` at each gateway; a gateway gone (or changed) closes
    // its listener and connections. A failed bind is logged once and tried
    // again at the next call.
    void listen_on(const std::map<NetworkId, Ipv4Cidr>& gateways, std::uint16_t port);
    // A gateway's bind failed (another socket holds the address and port):
    // the caller calls listen_on again now and then until it succeeds.
    bool bind_pending() const { return !bind_failed_.empty(); }
    // Appends what to poll: every listener and connection.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // After poll() on those fds: accepts, reads, writes what is queued,
    // closes idle and broken connections; complete queries go to `out`.
    void serve(std::span<const pollfd> fds, std::vector<TcpQuery>& out);
    // Queues one answer (the length prefix is added). A connection gone
    // meanwhile drops it; one with too much unread is closed.
    void send(std::uint64_t connection, std::span<const std::uint8_t> message);
    std::size_t connections() const { return connections_.size(); }

private:
    using Clock = std::chrono::steady_clock;
    struct Listener {
        int fd = -1;
        Ipv4Cidr gateway;
    };
    struct Connection {
        int fd = -1;
        NetworkId network = kNoNetwork;
        Ipv4Address asker;
        std::vector<std::uint8_t> in;
        std::vector<std::uint8_t> out;
        Clock::time_point last;
        bool peer_closed = false;  // an orderly end, not counted as dropped
    };
    void accept_from(NetworkId network, const Listener& l);
    bool read_from(std::uint64_t id, Connection& c, std::vector<TcpQuery>& out);  // false: closed
    bool flush(Connection& c);                                                     // false: broken
    void close_connection(std::uint64_t id);

    DnsCounters& counters_;
    std::chrono::milliseconds idle_;
    std::map<NetworkId, Listener> listeners_;
    std::map<std::uint64_t, Connection> connections_;
    std::map<int, std::uint64_t> by_fd_;
    std::set<std::string> bind_failed_;  // "ip:port" logged already
    std::uint64_t next_id_ = 1;
};

}  // namespace dpdock::dns
