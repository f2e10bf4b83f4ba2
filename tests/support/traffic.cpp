#include "tests/support/traffic.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/socket_util.hpp"

namespace dpdock::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kPollSliceMs = 100;  // how often blocked loops look at stop/abort flags
constexpr int kUdpTries = 5;
constexpr milliseconds kUdpReplyWait{1000};
constexpr std::size_t kChunk = 16384;

std::atomic<std::uint64_t> g_flows{0};

std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t new_seed() {
    return mix((static_cast<std::uint64_t>(::getpid()) << 32) ^ g_flows.fetch_add(1) ^
               static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
}

// Byte `offset` of the stream keyed by seed: any position can be checked alone.
std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t offset) {
    return static_cast<std::uint8_t>(mix(seed + (offset >> 3) * 0x9e3779b97f4a7c15ULL) >> ((offset & 7) * 8));
}

void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(seed, offset + i);
}

// Empty when data matches the pattern at offset, else a description of the first wrong byte.
std::string check_pattern(std::uint64_t seed, std::uint64_t offset, const std::uint8_t* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t want = pattern_byte(seed, offset + i);
        if (data[i] != want) {
            char text[96];
            std::snprintf(text, sizeof(text), "byte %llu is 0x%02x, expected 0x%02x",
                          static_cast<unsigned long long>(offset + i), data[i], want);
            return text;
        }
    }
    return {};
}

void set_timeouts(int fd, milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// Opens and binds a server socket in the calling thread's netns.
Result<Fd> bound_socket(int type, const FlowSpec& flow) {
    Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return sys_error("socket");
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    const sockaddr_in sa = to_sockaddr(flow.server_ip, flow.server_port);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
        return sys_error("bind " + endpoint(flow.server_ip, flow.server_port));
    }
    if (type == SOCK_STREAM && ::listen(fd.get(), 4) != 0) return sys_error("listen");
    return fd;
}

// Waits for fd to become ready; false after timeout or when `abort` is raised.
bool wait_readable(int fd, milliseconds timeout, const std::atomic<bool>& abort) {
    const auto deadline = Clock::now() + timeout;
    while (!abort.load() && Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, kPollSliceMs) > 0) return true;
    }
    return false;
}

}  // namespace

// Shared by tcp_transfer and ContinuousTcpStream: the server thread and the
// client thread each own their half; the atomics are how they talk.
struct TcpStreamState {
    FlowSpec flow;
    std::optional<std::uint64_t> total;  // nullopt: until stop
    std::size_t bytes_per_second = 0;    // 0: unthrottled
    milliseconds max_stall{0};
    std::uint64_t seed = new_seed();
    std::atomic<bool> stop{false};   // continuous stream: stop sending, drain, close
    std::atomic<bool> abort{false};  // one side failed: the other gives up now
    std::atomic<std::uint64_t> verified{0};
    milliseconds longest_stall{0};   // written by the client thread, read after join
    std::promise<Status> listening;  // set once by the server thread
    std::promise<Status> connected;  // set once by the client thread
    Status server_status;
    Status client_status;
    FlowReport report;
    std::thread server;
    std::thread client;
    bool stopped = false;
};

namespace {

Status serve_echo(TcpStreamState& st, int listen_fd) {
    const FlowSpec& flow = st.flow;
    if (!wait_readable(listen_fd, flow.io_timeout, st.abort)) {
        return Status::error(st.abort ? "gave up: client failed"
                                      : "no connection within " + std::to_string(flow.io_timeout.count()) + " ms");
    }
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const Fd conn(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    if (conn.get() < 0) return sys_error("accept");
    st.report.client_ip = Ipv4Address(ntohl(peer.sin_addr.s_addr));
    st.report.client_port = ntohs(peer.sin_port);
    set_timeouts(conn.get(), flow.io_timeout);
    std::vector<std::uint8_t> buffer(kChunk);
    std::uint64_t offset = 0;
    for (;;) {
        if (!wait_readable(conn.get(), flow.io_timeout, st.abort)) {
            return Status::error((st.abort ? "gave up: client failed"
                                           : "no data for " + std::to_string(flow.io_timeout.count()) + " ms") +
                                 " after " + std::to_string(offset) + " bytes");
        }
        const ssize_t n = ::read(conn.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return sys_error("read after " + std::to_string(offset) + " bytes");
        }
        if (n == 0) break;
        const auto size = static_cast<std::size_t>(n);
        if (std::string bad = check_pattern(st.seed, offset, buffer.data(), size); !bad.empty())
            return Status::error(bad);
        for (std::size_t done = 0; done < size;) {
            const ssize_t w = ::send(conn.get(), buffer.data() + done, size - done, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                return sys_error("echo after " + std::to_string(offset + done) + " bytes");
            }
            done += static_cast<std::size_t>(w);
        }
        offset += size;
    }
    if (st.total && offset != *st.total) {
        return Status::error("stream ended after " + std::to_string(offset) + " of " + std::to_string(*st.total) +
                             " bytes");
    }
    return Status();
}

void server_thread(TcpStreamState& st) {
    const Status entered = run_in(*st.flow.server_ns, [&st] {
        Result<Fd> listener = bound_socket(SOCK_STREAM, st.flow);
        st.listening.set_value(listener.status());
        st.server_status = listener ? serve_echo(st, listener->get()) : listener.status();
    });
    if (!entered) {
        st.listening.set_value(entered);
        st.server_status = entered;
    }
}

Result<Fd> connect_client(const FlowSpec& flow) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return sys_error("socket");
    set_timeouts(fd.get(), flow.io_timeout);  // bounds connect() too
    const sockaddr_in sa = to_sockaddr(flow.connect_ip, flow.connect_port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
        return sys_error("connect " + endpoint(flow.connect_ip, flow.connect_port));
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    return fd;
}

// Sends the pattern (throttled when asked) and verifies the echo until the
// total is sent or stop is raised, then half-closes and drains to EOF.
Status stream_client(TcpStreamState& st, int fd) {
    std::vector<std::uint8_t> out(kChunk);
    std::vector<std::uint8_t> in(kChunk);
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool write_closed = false;
    const auto start = Clock::now();
    auto last_progress = start;  // anything moved: bounds every wait by io_timeout
    auto last_echo = start;      // echo arrived or nothing outstanding: measures stalls
    for (;;) {
        if (st.abort)
            return Status::error("gave up: server failed after " + std::to_string(received) + " echoed bytes");
        const auto now = Clock::now();
        if (received == sent) last_echo = now;
        st.longest_stall = std::max(st.longest_stall, std::chrono::duration_cast<milliseconds>(now - last_echo));
        if (now - last_progress > st.flow.io_timeout) {
            return Status::error("no progress for " + std::to_string(st.flow.io_timeout.count()) + " ms (sent " +
                                 std::to_string(sent) + ", echoed " + std::to_string(received) + ")");
        }
        const bool more = st.total ? sent < *st.total : !st.stop;
        if (!more && !write_closed) {
            ::shutdown(fd, SHUT_WR);
            write_closed = true;
        }
        std::uint64_t allowed = 0;
        if (more) {
            allowed = st.total ? *st.total - sent : kChunk;
            if (st.bytes_per_second > 0) {
                const auto elapsed = std::chrono::duration_cast<milliseconds>(now - start).count();
                const std::uint64_t budget = kChunk + st.bytes_per_second * static_cast<std::uint64_t>(elapsed) / 1000;
                allowed = budget > sent ? std::min<std::uint64_t>(allowed, budget - sent) : 0;
            }
            allowed = std::min<std::uint64_t>(allowed, kChunk);
        }
        pollfd p{fd, static_cast<short>(POLLIN | (allowed > 0 ? POLLOUT : 0)), 0};
        ::poll(&p, 1, allowed > 0 || !more ? kPollSliceMs : 5);
        if ((p.revents & POLLOUT) != 0 && allowed > 0) {
            const auto size = static_cast<std::size_t>(allowed);
            fill_pattern(st.seed, sent, out.data(), size);
            const ssize_t n = ::send(fd, out.data(), size, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return sys_error("send after " + std::to_string(sent) + " bytes");
            if (n > 0) {
                sent += static_cast<std::uint64_t>(n);
                last_progress = Clock::now();
            }
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return sys_error("receive after " + std::to_string(received) + " echoed bytes");
        }
        if (n == 0) {
            if (write_closed && received == sent) return Status();
            return Status::error("closed by the server after " + std::to_string(received) + " echoed bytes (sent " +
                                 std::to_string(sent) + ")");
        }
        const auto size = static_cast<std::size_t>(n);
        if (std::string bad = check_pattern(st.seed, received, in.data(), size); !bad.empty()) {
            return Status::error("echo " + bad);
        }
        received += size;
        st.verified.store(received);
        last_progress = last_echo = Clock::now();
    }
}

void client_thread(TcpStreamState& st) {
    const Status entered = run_in(*st.flow.client_ns, [&st] {
        Result<Fd> conn = connect_client(st.flow);
        st.connected.set_value(conn.status());
        st.client_status = conn ? stream_client(st, conn->get()) : conn.status();
        if (!st.client_status) st.abort = true;
    });
    if (!entered) {
        st.connected.set_value(entered);
        st.client_status = entered;
        st.abort = true;
    }
}

Status verdict(const TcpStreamState& st) {
    std::string text;
    if (!st.client_status) text = "client: " + st.client_status.message();
    if (!st.server_status) text += (text.empty() ? "" : "; ") + std::string("server: ") + st.server_status.message();
    if (text.empty() && st.max_stall.count() > 0 && st.longest_stall > st.max_stall) {
        text = "stream stalled for " + std::to_string(st.longest_stall.count()) + " ms (limit " +
               std::to_string(st.max_stall.count()) + " ms) ";
    }
    if (text.empty()) return Status();
    return Status::error("tcp " + endpoint(st.flow.connect_ip, st.flow.connect_port) + ": " + text);
}

Status finish(TcpStreamState& st) {
    st.stop = true;
    if (st.client.joinable()) st.client.join();
    if (!st.client_status) st.abort = true;
    if (st.server.joinable()) st.server.join();
    st.stopped = true;
    return verdict(st);
}

std::uint16_t icmp_checksum(const std::uint8_t* data, std::size_t n) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    if ((n & 1) != 0) sum += static_cast<std::uint32_t>(data[n - 1] << 8);
    while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// One echo request and its reply (same id, sequence and payload) before deadline.
bool ping_once(int fd, Ipv4Address to, std::uint16_t id, std::uint16_t seq, Clock::time_point deadline) {
    constexpr std::size_t kIcmpHeader = 8;
    constexpr std::size_t kPayload = 56;
    std::array<std::uint8_t, kIcmpHeader + kPayload> request{};
    request[0] = ICMP_ECHO;
    request[4] = static_cast<std::uint8_t>(id >> 8);
    request[5] = static_cast<std::uint8_t>(id);
    request[6] = static_cast<std::uint8_t>(seq >> 8);
    request[7] = static_cast<std::uint8_t>(seq);
    fill_pattern(id, seq * kPayload, request.data() + kIcmpHeader, kPayload);
    const std::uint16_t csum = icmp_checksum(request.data(), request.size());
    request[2] = static_cast<std::uint8_t>(csum >> 8);
    request[3] = static_cast<std::uint8_t>(csum);
    const sockaddr_in sa = to_sockaddr(to, 0);
    if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0)
        return false;
    std::array<std::uint8_t, 1500> reply{};
    while (Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, kPollSliceMs) <= 0) continue;
        const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);  // raw: IP header first
        if (n < 20) continue;
        const std::size_t ihl = (reply[0] & 0x0f) * 4u;
        std::uint32_t source = 0;
        std::memcpy(&source, reply.data() + 12, 4);
        if (static_cast<std::size_t>(n) != ihl + request.size() || source != to.be().raw()) continue;
        const std::uint8_t* icmp = reply.data() + ihl;
        if (icmp[0] == ICMP_ECHOREPLY && std::equal(request.begin() + 4, request.end(), icmp + 4)) return true;
    }
    return false;
}

}  // namespace

bool ping(const Netns& from, Ipv4Address to, int count, int timeout_s) {
    int replies = 0;
    const Status entered = run_in(from, [&] {
        const Fd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
        if (fd.get() < 0) return;
        const auto id = static_cast<std::uint16_t>(new_seed());
        const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
        for (int seq = 1; seq <= count; ++seq) {
            // A lost request is retried until the deadline, as `ping -w` would keep sending.
            while (Clock::now() < deadline) {
                if (ping_once(fd.get(), to, id, static_cast<std::uint16_t>(seq),
                              std::min(deadline, Clock::now() + milliseconds(1000)))) {
                    ++replies;
                    break;
                }
            }
        }
    });
    return entered && replies == count;
}

namespace {

// UdpSend::Segmented's client: every datagram in one send() (UDP_SEGMENT),
// then the echoes in any order; the whole batch again while some are missing.
Status send_segmented(int fd, std::uint64_t seed, int datagrams, std::size_t payload_bytes) {
    constexpr std::size_t kSeqBytes = 8;
    const int segment = static_cast<int>(payload_bytes);
    if (::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment, sizeof segment) != 0) return sys_error("UDP_SEGMENT");
    std::vector<std::uint8_t> out(payload_bytes * static_cast<std::size_t>(datagrams));
    for (int i = 0; i < datagrams; ++i) {
        const auto seq = static_cast<std::uint64_t>(i);
        std::uint8_t* d = out.data() + seq * payload_bytes;
        std::memcpy(d, &seq, kSeqBytes);
        fill_pattern(seed, seq * payload_bytes + kSeqBytes, d + kSeqBytes, payload_bytes - kSeqBytes);
    }
    std::vector<bool> echoed(static_cast<std::size_t>(datagrams));
    int missing = datagrams;
    std::vector<std::uint8_t> in(payload_bytes + 1);
    for (int attempt = 0; attempt < kUdpTries && missing > 0; ++attempt) {
        if (::send(fd, out.data(), out.size(), 0) < 0) return sys_error("send with UDP_SEGMENT");
        const std::atomic<bool> never{false};
        while (missing > 0 && wait_readable(fd, kUdpReplyWait, never)) {
            const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
            std::uint64_t seq = 0;
            if (n < static_cast<ssize_t>(kSeqBytes)) continue;
            std::memcpy(&seq, in.data(), kSeqBytes);
            if (seq >= echoed.size() || echoed[seq]) continue;
            if (static_cast<std::size_t>(n) != payload_bytes) {
                return Status::error("datagram " + std::to_string(seq) + " came back with " + std::to_string(n) + " bytes");
            }
            if (std::string bad = check_pattern(seed, seq * payload_bytes + kSeqBytes, in.data() + kSeqBytes,
                                                payload_bytes - kSeqBytes);
                !bad.empty()) {
                return Status::error("datagram " + std::to_string(seq) + ": payload " + bad);
            }
            echoed[seq] = true;
            --missing;
        }
    }
    if (missing > 0) {
        return Status::error(std::to_string(missing) + " of " + std::to_string(datagrams) +
                             " segmented datagrams not echoed after " + std::to_string(kUdpTries) + " tries");
    }
    return Status();
}

}  // namespace

Result<FlowReport> udp_exchange(const FlowSpec& flow, int datagrams, std::size_t payload_bytes, UdpSend send) {
    constexpr std::size_t kSeqBytes = 8;
    if (payload_bytes < kSeqBytes) return Status::error("udp payload must be at least 8 bytes");
    std::atomic<bool> stop{false};
    std::promise<Status> listening;
    auto ready = listening.get_future();
    Status server_status;
    FlowReport report;
    std::thread server([&] {
        const Status entered = run_in(*flow.server_ns, [&] {
            Result<Fd> sock = bound_socket(SOCK_DGRAM, flow);
            listening.set_value(sock.status());
            if (!sock) return;
            std::vector<std::uint8_t> buffer(65536);
            bool first = true;
            while (wait_readable(sock->get(), flow.io_timeout, stop)) {
                sockaddr_in peer{};
                socklen_t len = sizeof(peer);
                const ssize_t n =
                    ::recvfrom(sock->get(), buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&peer), &len);
                if (n < 0) continue;
                if (first) report = FlowReport{Ipv4Address(ntohl(peer.sin_addr.s_addr)), ntohs(peer.sin_port)};
                first = false;
                if (::sendto(sock->get(), buffer.data(), static_cast<std::size_t>(n), 0,
                             reinterpret_cast<sockaddr*>(&peer), len) < 0) {
                    server_status = sys_error("echo");
                    return;
                }
            }
        });
        if (!entered) {
            listening.set_value(entered);
            server_status = entered;
        }
    });
    const std::string where = "udp " + endpoint(flow.connect_ip, flow.connect_port) + ": ";
    Status client_status = ready.get();
    if (client_status) {
        const std::uint64_t seed = new_seed();
        const Status entered = run_in(*flow.client_ns, [&] {
            Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            const sockaddr_in sa = to_sockaddr(flow.connect_ip, flow.connect_port);
            if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
                client_status = sys_error("client socket");
                return;
            }
            if (send == UdpSend::Segmented) {
                client_status = send_segmented(fd.get(), seed, datagrams, payload_bytes);
                return;
            }
            std::vector<std::uint8_t> out(payload_bytes);
            std::vector<std::uint8_t> in(payload_bytes + 1);
            for (int i = 0; i < datagrams && client_status; ++i) {
                const auto seq = static_cast<std::uint64_t>(i);
                std::memcpy(out.data(), &seq, kSeqBytes);
                fill_pattern(seed, seq * payload_bytes + kSeqBytes, out.data() + kSeqBytes, payload_bytes - kSeqBytes);
                bool answered = false;
                for (int attempt = 0; attempt < kUdpTries && !answered && client_status; ++attempt) {
                    ::send(fd.get(), out.data(), out.size(), 0);  // errors (e.g. ICMP unreachable) count as loss
                    const std::atomic<bool> never{false};
                    while (!answered && wait_readable(fd.get(), kUdpReplyWait, never)) {
                        const ssize_t n = ::recv(fd.get(), in.data(), in.size(), 0);
                        if (n < static_cast<ssize_t>(kSeqBytes) || std::memcmp(in.data(), &seq, kSeqBytes) != 0)
                            continue;
                        answered = true;
                        if (static_cast<std::size_t>(n) != payload_bytes) {
                            client_status = Status::error("datagram " + std::to_string(i) + " came back with " +
                                                          std::to_string(n) + " bytes");
                        } else if (std::string bad = check_pattern(seed, seq * payload_bytes + kSeqBytes,
                                                                   in.data() + kSeqBytes, payload_bytes - kSeqBytes);
                                   !bad.empty()) {
                            client_status = Status::error("datagram " + std::to_string(i) + ": payload " + bad);
                        }
                    }
                }
                if (!answered && client_status) {
                    client_status = Status::error("datagram " + std::to_string(i) + ": no echo after " +
                                                  std::to_string(kUdpTries) + " tries");
                }
            }
        });
        if (!entered) client_status = entered;
    }
    stop = true;
    server.join();
    if (!client_status) return Status::error(where + client_status.message());
    if (!server_status) return Status::error(where + "server: " + server_status.message());
    return report;
}

Status udp_exchange(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns,
                    int datagrams, std::size_t payload_bytes) {
    return udp_exchange(direct_flow(server_ns, server_ip, port, client_ns), datagrams, payload_bytes).status();
}

FlowSpec direct_flow(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns) {
    FlowSpec flow;
    flow.server_ns = &server_ns;
    flow.server_ip = server_ip;
    flow.server_port = port;
    flow.client_ns = &client_ns;
    flow.connect_ip = server_ip;
    flow.connect_port = port;
    return flow;
}

Result<FlowReport> tcp_transfer(const FlowSpec& flow, std::size_t bytes) {
    TcpStreamState st;
    st.flow = flow;
    st.total = bytes;
    auto listening = st.listening.get_future();
    st.server = std::thread(server_thread, std::ref(st));
    if (Status ready = listening.get(); !ready) {
        st.server.join();
        return Status::error("tcp server " + endpoint(flow.server_ip, flow.server_port) + ": " + ready.message());
    }
    client_thread(st);
    if (Status st_verdict = finish(st); !st_verdict) return st_verdict;
    return st.report;
}

Status tcp_transfer(const Netns& server_ns, Ipv4Address server_ip, std::uint16_t port, const Netns& client_ns,
                    std::size_t bytes) {
    return tcp_transfer(direct_flow(server_ns, server_ip, port, client_ns), bytes).status();
}

ContinuousTcpStream::ContinuousTcpStream(std::unique_ptr<TcpStreamState> state) : state_(std::move(state)) {}
ContinuousTcpStream::ContinuousTcpStream(ContinuousTcpStream&&) noexcept = default;
ContinuousTcpStream& ContinuousTcpStream::operator=(ContinuousTcpStream&& other) noexcept {
    if (this != &other) {
        if (state_ && !state_->stopped) finish(*state_);
        state_ = std::move(other.state_);
    }
    return *this;
}

ContinuousTcpStream::~ContinuousTcpStream() {
    if (state_ && !state_->stopped) finish(*state_);
}

Result<ContinuousTcpStream> ContinuousTcpStream::start(const FlowSpec& flow, std::chrono::milliseconds max_stall,
                                                       std::size_t bytes_per_second) {
    auto st = std::make_unique<TcpStreamState>();
    st->flow = flow;
    st->max_stall = max_stall;
    st->bytes_per_second = bytes_per_second;
    auto listening = st->listening.get_future();
    st->server = std::thread(server_thread, std::ref(*st));
    if (Status ready = listening.get(); !ready) {
        st->server.join();
        return Status::error("tcp server " + endpoint(flow.server_ip, flow.server_port) + ": " + ready.message());
    }
    auto connected = st->connected.get_future();
    st->client = std::thread(client_thread, std::ref(*st));
    if (Status up = connected.get(); !up) {
        finish(*st);
        return Status::error("tcp client: " + up.message());
    }
    return ContinuousTcpStream(std::move(st));
}

std::uint64_t ContinuousTcpStream::bytes_verified() const { return state_ ? state_->verified.load() : 0; }

Status ContinuousTcpStream::stop() {
    if (!state_) return Status::error("stream was moved from");
    if (state_->stopped) return verdict(*state_);
    return finish(*state_);
}

}  // namespace dpdock::test
