// TcpProxy on the test's loopback: bytes through it both ways with a
// half-close, a refused target passed on as RST, a taken port refused with
// Docker's words, and remove() freeing the port at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "host_proxy/tcp_proxy.hpp"

namespace dpdock::host_proxy {
namespace {

const Ipv4Address kLo = *Ipv4Address::parse("127.0.0.1");

sockaddr_in lo_addr(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A listening socket on 127.0.0.1 at a port the kernel picks.
int listen_any(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = lo_addr(0);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        return -1;
    }
    port = ntohs(a.sin_port);
    return fd;
}

// A port free right now (bound and released).
std::uint16_t free_port() {
    std::uint16_t port = 0;
    ::close(listen_any(port));
    return port;
}

int connect_lo(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const sockaddr_in a = lo_addr(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until EOF (or error/timeout); what arrived.
std::string read_all(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

TEST(TcpProxyTest, CopiesBothWaysAndPassesTheHalfCloseOn) {
    std::uint16_t backend_port = 0;
    const int backend = listen_any(backend_port);
    ASSERT_GE(backend, 0);
    // The backend reads everything (until the client's FIN arrives through the proxy) and echoes it reversed.
    std::thread server([&] {
        const int fd = ::accept(backend, nullptr, nullptr);
        std::string got = read_all(fd);
        std::string reply(got.rbegin(), got.rend());
        std::size_t off = 0;
        while (off < reply.size()) {
            const ssize_t n = ::send(fd, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::close(fd);
    });
    TcpProxy proxy;
    const std::uint16_t port = free_port();
    const Forward f{kLo, port, kLo, backend_port};
    ASSERT_TRUE(proxy.add(f).ok());

    std::string sent(300000, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 131 + (i >> 9));
    const int client = connect_lo(port);
    ASSERT_GE(client, 0);
    std::thread writer([&] {
        std::size_t off = 0;
        while (off < sent.size()) {
            const ssize_t n = ::send(client, sent.data() + off, sent.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::shutdown(client, SHUT_WR);
    });
    const std::string got = read_all(client);
    writer.join();
    server.join();
    EXPECT_EQ(got, std::string(sent.rbegin(), sent.rend()));
    ::close(client);
    ::close(backend);
    EXPECT_EQ(proxy.counters().accepted.load(), 1u);
}

TEST(TcpProxyTest, ARefusedTargetResetsTheClient) {
    TcpProxy proxy;
    const std::uint16_t port = free_port();
    ASSERT_TRUE(proxy.add({kLo, port, kLo, free_port()}).ok());
    const int client = connect_lo(port);
    ASSERT_GE(client, 0);
    char c = 0;
    EXPECT_EQ(::recv(client, &c, 1, 0), -1);
    EXPECT_EQ(errno, ECONNRESET);
    ::close(client);
    EXPECT_EQ(proxy.counters().connect_failed.load(), 1u);
}

TEST(TcpProxyTest, ATakenPortIsRefusedAndARemovedOneIsFreeAgain) {
    std::uint16_t taken = 0;
    const int holder = listen_any(taken);
    ASSERT_GE(holder, 0);
    TcpProxy proxy;
    const Status st = proxy.add({kLo, taken, kLo, 80});
    EXPECT_EQ(st.message(), "Bind for 127.0.0.1:" + std::to_string(taken) + " failed: port is already allocated");
    EXPECT_TRUE(proxy.forwards().empty());
    ::close(holder);

    const Forward f{kLo, free_port(), kLo, 80};
    ASSERT_TRUE(proxy.add(f).ok());
    EXPECT_EQ(proxy.forwards().size(), 1u);
    proxy.remove(f);
    EXPECT_TRUE(proxy.forwards().empty());
    EXPECT_EQ(connect_lo(f.listen_port), -1);  // nothing listens: refused
    EXPECT_TRUE(proxy.add(f).ok()) << "the port is free again";
}

}  // namespace
}  // namespace dpdock::host_proxy
