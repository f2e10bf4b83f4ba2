// dns::TcpServer over loopback: length-prefixed messages (several in one
// segment, one split over two) come out whole and tagged with the listener's
// network; answers go back prefixed; a peer outside the network's subnet and
// connections beyond the bound are closed at once, a silent one after the
// idle time; a network gone closes its listener. No EAL: the DNS thread's
// TCP half is plain sockets.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dns/tcp_server.hpp"

namespace dpdock::dns {
namespace {

std::uint16_t free_port() {
    static std::uint16_t next = static_cast<std::uint16_t>(30000 + (getpid() % 5000) * 4);
    return next++;
}

// A client socket bound to `from`, connected to ip:port (blocking); -1 on failure.
int connect_from(const char* from, const char* ip, std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, ip, &to.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Polls and serves the server until `done` or 2 s.
void pump(TcpServer& server, std::vector<TcpQuery>& out, const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done() && std::chrono::steady_clock::now() < until) {
        std::vector<pollfd> fds;
        server.add_poll_fds(fds);
        poll(fds.data(), fds.size(), 10);
        server.serve(fds, out);
    }
}

// Whether the server closed the client's connection (read returns 0 or an error within 1 s).
bool closed_by_server(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) return false;
    char c;
    return recv(fd, &c, 1, 0) <= 0;
}

class TcpServerTest : public ::testing::Test {
protected:
    DnsCounters counters_;
    TcpServer server_{counters_};
    std::uint16_t port_ = free_port();
    const Ipv4Cidr loopback_ = *Ipv4Cidr::parse("127.0.0.1/8");
};

TEST_F(TcpServerTest, MessagesComeOutWholeAndAnswersGoBackPrefixed) {
    server_.listen_on({{7, loopback_}}, port_);
    const int c = connect_from("127.0.0.9", "127.0.0.1", port_);
    ASSERT_GE(c, 0);
    // Two messages in one write, and the first two bytes of a third.
    const std::vector<std::uint8_t> wire{0, 3, 'a', 'b', 'c', 0, 1, 'x', 0, 2, 'y'};
    ASSERT_EQ(send(c, wire.data(), wire.size(), 0), static_cast<ssize_t>(wire.size()));
    std::vector<TcpQuery> got;
    pump(server_, got, [&] { return got.size() >= 2; });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].message, (std::vector<std::uint8_t>{'a', 'b', 'c'}));
    EXPECT_EQ(got[1].message, (std::vector<std::uint8_t>{'x'}));
    EXPECT_EQ(got[0].network, 7u);
    EXPECT_EQ(got[0].asker, *Ipv4Address::parse("127.0.0.9"));
    const std::uint8_t rest = 'z';
    ASSERT_EQ(send(c, &rest, 1, 0), 1);
    pump(server_, got, [&] { return got.size() >= 3; });
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[2].message, (std::vector<std::uint8_t>{'y', 'z'}));

    const std::vector<std::uint8_t> answer{1, 2, 3, 4};
    server_.send(got[0].connection, answer);
    std::uint8_t buf[16];
    ASSERT_EQ(recv(c, buf, sizeof buf, 0), 6);
    EXPECT_EQ(std::vector<std::uint8_t>(buf, buf + 6), (std::vector<std::uint8_t>{0, 4, 1, 2, 3, 4}));
    EXPECT_EQ(counters_.tcp_connections.load(), 1u);
    close(c);
    pump(server_, got, [&] { return server_.connections() == 0; });
    EXPECT_EQ(server_.connections(), 0u);
    EXPECT_EQ(counters_.tcp_dropped.load(), 0u) << "an orderly close is not a drop";
}

TEST_F(TcpServerTest, APeerOutsideTheNetworkIsTurnedAway) {
    server_.listen_on({{7, *Ipv4Cidr::parse("127.0.0.1/32")}}, port_);
    const int c = connect_from("127.0.0.2", "127.0.0.1", port_);
    ASSERT_GE(c, 0);
    std::vector<TcpQuery> got;
    pump(server_, got, [&] { return counters_.tcp_rejected.load() > 0; });
    EXPECT_EQ(counters_.tcp_rejected.load(), 1u);
    EXPECT_TRUE(closed_by_server(c));
    EXPECT_EQ(server_.connections(), 0u);
    close(c);
}

// Four networks, their gateways 127.0.0.1-4 on loopback; asker k of them is 127.0.1.k.
std::map<NetworkId, Ipv4Cidr> four_networks() {
    std::map<NetworkId, Ipv4Cidr> gateways;
    for (NetworkId n = 0; n < 4; ++n) {
        gateways[n] = Ipv4Cidr(Ipv4Address(0x7f000001u + n), 8);
    }
    return gateways;
}
std::string gateway_of(std::size_t network) { return "127.0.0." + std::to_string(1 + network); }
std::string asker(std::size_t k) { return "127.0.1." + std::to_string(k); }

TEST_F(TcpServerTest, ConnectionsAreBoundedAndListenersFollowTheNetworks) {
    server_.listen_on(four_networks(), port_);
    std::vector<int> clients;
    std::vector<TcpQuery> got;
    // Every network to its own bound, each asker to its own: the whole bound, then one more.
    for (std::size_t i = 0; i <= kMaxTcpConnections; ++i) {
        const std::size_t network = i % 4;
        clients.push_back(connect_from(asker(i / kMaxTcpPerAsker).c_str(), gateway_of(network).c_str(), port_));
        ASSERT_GE(clients.back(), 0);
        pump(server_, got, [&] { return server_.connections() + counters_.tcp_rejected.load() > i; });
    }
    EXPECT_EQ(server_.connections(), kMaxTcpConnections);
    EXPECT_EQ(counters_.tcp_rejected.load(), 1u);
    // The networks go: their listeners and connections with them.
    server_.listen_on({}, port_);
    EXPECT_EQ(server_.connections(), 0u);
    EXPECT_TRUE(closed_by_server(clients.front()));
    EXPECT_LT(connect_from(asker(0).c_str(), gateway_of(0).c_str(), port_), 0);
    for (int fd : clients) close(fd);
}

// One address, or one network, cannot take every slot: the others still get in.
TEST_F(TcpServerTest, OneAskerAndOneNetworkHoldOnlyTheirShare) {
    server_.listen_on(four_networks(), port_);
    std::vector<int> clients;
    std::vector<TcpQuery> got;
    std::uint64_t expected_rejected = 0;
    auto open_from = [&](const std::string& from, std::size_t network) {
        clients.push_back(connect_from(from.c_str(), gateway_of(network).c_str(), port_));
        const std::size_t before = server_.connections() + counters_.tcp_rejected.load();
        pump(server_, got, [&] { return server_.connections() + counters_.tcp_rejected.load() > before; });
    };
    for (std::size_t i = 0; i <= kMaxTcpPerAsker; ++i) open_from(asker(0), 0);
    EXPECT_EQ(server_.connections(), kMaxTcpPerAsker);
    EXPECT_EQ(counters_.tcp_rejected.load(), ++expected_rejected) << "one address beyond its share";
    for (std::size_t i = kMaxTcpPerAsker; i <= kMaxTcpPerNetwork; ++i) open_from(asker(1 + i / kMaxTcpPerAsker), 0);
    EXPECT_EQ(server_.connections(), kMaxTcpPerNetwork);
    EXPECT_EQ(counters_.tcp_rejected.load(), ++expected_rejected) << "one network beyond its share";
    open_from(asker(20), 1);
    EXPECT_EQ(server_.connections(), kMaxTcpPerNetwork + 1) << "another network still gets in";
    EXPECT_EQ(counters_.tcp_rejected.load(), expected_rejected);
    for (int fd : clients) close(fd);
}

TEST(TcpServerIdleTest, ASilentConnectionIsClosedAfterTheIdleTime) {
    DnsCounters counters;
    TcpServer server(counters, std::chrono::milliseconds(100));
    const std::uint16_t port = free_port();
    server.listen_on({{7, *Ipv4Cidr::parse("127.0.0.1/8")}}, port);
    const int c = connect_from("127.0.0.9", "127.0.0.1", port);
    ASSERT_GE(c, 0);
    std::vector<TcpQuery> got;
    pump(server, got, [&] { return server.connections() == 1; });
    ASSERT_EQ(server.connections(), 1u);
    pump(server, got, [&] { return server.connections() == 0; });
    EXPECT_EQ(server.connections(), 0u);
    EXPECT_EQ(counters.tcp_dropped.load(), 1u);
    EXPECT_TRUE(closed_by_server(c));
    close(c);
}

// Bytes that never complete a query do not keep a connection: it is closed
// after the idle time like a silent one.
TEST(TcpServerIdleTest, AClientTricklingBytesIsClosedAfterTheIdleTime) {
    DnsCounters counters;
    TcpServer server(counters, std::chrono::milliseconds(300));
    const std::uint16_t port = free_port();
    server.listen_on({{7, *Ipv4Cidr::parse("127.0.0.1/8")}}, port);
    const int c = connect_from("127.0.0.9", "127.0.0.1", port);
    ASSERT_GE(c, 0);
    std::vector<TcpQuery> got;
    pump(server, got, [&] { return server.connections() == 1; });
    ASSERT_EQ(server.connections(), 1u);
    const std::uint8_t prefix[2] = {0xff, 0xff};  // a 65535-byte query, sent a byte at a time
    ASSERT_EQ(send(c, prefix, 2, MSG_NOSIGNAL), 2);
    // A byte every 100 ms for up to 2 s (the idle time is 300 ms).
    for (int i = 0; i < 20 && server.connections() != 0; ++i) {
        const std::uint8_t byte = 0;
        send(c, &byte, 1, MSG_NOSIGNAL);
        const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        while (std::chrono::steady_clock::now() < next) {
            std::vector<pollfd> fds;
            server.add_poll_fds(fds);
            poll(fds.data(), fds.size(), 10);
            server.serve(fds, got);
        }
    }
    EXPECT_EQ(server.connections(), 0u);
    EXPECT_EQ(counters.tcp_dropped.load(), 1u);
    close(c);
}

}  // namespace
}  // namespace dpdock::dns
