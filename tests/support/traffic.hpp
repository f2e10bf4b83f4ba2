// Real traffic between test namespaces, every byte verified: ICMP echo, a TCP
// transfer echoed back through the path, UDP datagrams echoed back, and a
// continuous TCP stream that proves traffic never stops while the dataplane
// is reconfigured. Sockets are opened in-process on threads that joined the
// namespaces (run_in); every wait is bounded, nothing can hang a test.
// Threading: call from the test thread; the helpers start and join their own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "tests/support/netns.hpp"

namespace dpdock::test {

// ICMP echo over a raw socket in `from`: true when all `count` replies come
// back (with the payload sent) within timeout_s seconds in total.
bool ping(const Netns& from, Ipv4Address to, int count = 3, int timeout_s = 5);

// Who listens where and where the client connects; the two differ when a
// published port (DNAT) sits between them.
struct FlowSpec {
    const Netns* server_ns = nullptr;
    Ipv4Address server_ip;
    std::uint16_t server_port = 0;
    const Netns* client_ns = nullptr;
    Ipv4Address connect_ip;
    std::uint16_t connect_port = 0;
    // Longest wait for any progress (accept, connect, data) before giving up.
    std::chrono::milliseconds io_timeout{20000};
};

// The client's address as the server saw it (the masquerade address under SNAT).
struct FlowReport {
    Ipv4Address client_ip;
    std::uint16_t client_port = 0;
};

FlowSpec direct_flow(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns);

// The client sends `bytes` of a pseudo-random pattern; the server verifies
// each byte and echoes it; the client verifies the echo. The error names the
// side and the first wrong byte, or what timed out.
Result<FlowReport> tcp_transfer(const FlowSpec& flow, std::size_t bytes);
Status tcp_transfer(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns,
                    std::size_t bytes);

// How the client of udp_exchange sends.
enum class UdpSend {
    OneByOne,   // a datagram, then its echo, then the next
    Segmented,  // all datagrams in one send() with UDP_SEGMENT: the kernel hands one
                // UDP super-frame (GSO_UDP_L4) to the interface
};

// `datagrams` numbered datagrams, each echoed by a server in server_ns and
// compared byte for byte; a lost datagram is resent a few times before failing.
Result<FlowReport> udp_exchange(const FlowSpec& flow, int datagrams, std::size_t payload_bytes = 512,
                                UdpSend send = UdpSend::OneByOne);
Status udp_exchange(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns,
                    int datagrams, std::size_t payload_bytes = 512);

struct TcpStreamState;

// A rate-limited echoed TCP stream running in background threads until stop().
class ContinuousTcpStream {
public:
    // Returns once the connection is established.
    static Result<ContinuousTcpStream> start(const FlowSpec& flow,
                                             std::chrono::milliseconds max_stall = std::chrono::milliseconds(3000),
                                             std::size_t bytes_per_second = 2u << 20);

    ContinuousTcpStream(ContinuousTcpStream&&) noexcept;
    ContinuousTcpStream& operator=(ContinuousTcpStream&&) noexcept;
    ~ContinuousTcpStream();  // stops (and discards the verdict) if stop() was not called

    // Bytes that made the round trip and matched so far.
    std::uint64_t bytes_verified() const;
    // Finishes the stream (drains what is in flight) and joins the threads. Error if
    // the stream broke, a byte differed, or the echo stalled longer than max_stall.
    Status stop();

private:
    explicit ContinuousTcpStream(std::unique_ptr<TcpStreamState> state);
    std::unique_ptr<TcpStreamState> state_;
};

}  // namespace dpdock::test
