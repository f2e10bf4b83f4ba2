// Many concurrent UDP flows for NAT tests: an echo server in one namespace
// that remembers every peer it saw, and N connected sockets in another, each
// a flow of its own (its own source port) that stays alive as long as the
// UdpFlows object does. Rounds send one numbered datagram per flow and check
// each echo byte for byte. Windows of flows keep the in-flight count below
// the rings on the path (af_packet's are a few hundred frames).
// Threading: call from the test thread; the server runs its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/socket_util.hpp"

namespace dpdock::test {

class UdpEchoServer {
public:
    // Bound to ip:port in `ns` and echoing once this returns.
    static Result<std::unique_ptr<UdpEchoServer>> start(const Netns& ns, Ipv4Address ip, std::uint16_t port);
    ~UdpEchoServer();  // stops and joins
    UdpEchoServer(const UdpEchoServer&) = delete;
    UdpEchoServer& operator=(const UdpEchoServer&) = delete;

    // Every (address, port) a datagram came from so far.
    std::set<std::pair<Ipv4Address, std::uint16_t>> peers() const;

private:
    explicit UdpEchoServer(Fd socket);
    void serve();

    Fd socket_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::set<std::pair<Ipv4Address, std::uint16_t>> peers_;
    std::thread thread_;
};

class UdpFlows {
public:
    // `count` sockets in `ns`, each connected to dst:port (raises this
    // process's open-file limit when it must).
    static Result<UdpFlows> open(const Netns& ns, Ipv4Address dst, std::uint16_t port, std::size_t count);

    // Each flow sends its datagram of round `round` (resent a few times when
    // lost) and waits for the echo; returns per flow whether an intact echo
    // came back.
    std::vector<bool> exchange_round(std::uint32_t round);
    std::size_t size() const { return sockets_.size(); }
    void close() { sockets_.clear(); }

private:
    std::vector<Fd> sockets_;
};

// How many of `answered` are true.
std::size_t count_answered(const std::vector<bool>& answered);

}  // namespace dpdock::test
