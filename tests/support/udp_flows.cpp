#include "tests/support/udp_flows.hpp"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

namespace dpdock::test {
namespace {

constexpr std::size_t kWindow = 128;  // flows in flight at once
constexpr int kTries = 4;             // sends per flow and round before it counts as unanswered
constexpr int kReplyWaitMs = 1000;    // per window and try
constexpr std::size_t kPayload = 64;

// Flow index, round, and bytes derived from both: a misdelivered echo cannot pass.
std::array<std::uint8_t, kPayload> payload(std::uint32_t flow, std::uint32_t round) {
    std::array<std::uint8_t, kPayload> p{};
    std::memcpy(p.data(), &flow, sizeof flow);
    std::memcpy(p.data() + 4, &round, sizeof round);
    std::uint32_t x = flow * 2654435761u ^ round * 40503u;
    for (std::size_t i = 8; i < p.size(); ++i) {
        x = x * 1103515245u + 12345u;
        p[i] = static_cast<std::uint8_t>(x >> 16);
    }
    return p;
}

Status raise_open_file_limit(std::size_t wanted) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return sys_error("getrlimit");
    if (lim.rlim_cur >= wanted) return {};
    if (lim.rlim_max < wanted) {
        return Status::error("open-file limit " + std::to_string(lim.rlim_max) + " is below the " +
                             std::to_string(wanted) + " sockets this test needs");
    }
    lim.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return sys_error("setrlimit");
    return {};
}

}  // namespace

std::size_t count_answered(const std::vector<bool>& answered) {
    return static_cast<std::size_t>(std::count(answered.begin(), answered.end(), true));
}

Result<std::unique_ptr<UdpEchoServer>> UdpEchoServer::start(const Netns& ns, Ipv4Address ip, std::uint16_t port) {
    Result<Fd> sock = Status::error("not opened");
    const Status entered = run_in(ns, [&] {
        Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0) {
            sock = sys_error("socket");
            return;
        }
        const sockaddr_in sa = to_sockaddr(ip, port);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
            sock = sys_error("bind " + endpoint(ip, port));
            return;
        }
        sock = std::move(fd);
    });
    if (!entered) return entered;
    if (!sock) return sock.status();
    // A socket keeps the namespace it was made in: the server thread needs no setns.
    std::unique_ptr<UdpEchoServer> server(new UdpEchoServer(std::move(*sock)));
    server->thread_ = std::thread([s = server.get()] { s->serve(); });
    return server;
}

UdpEchoServer::UdpEchoServer(Fd socket) : socket_(std::move(socket)) {}

UdpEchoServer::~UdpEchoServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void UdpEchoServer::serve() {
    std::array<std::uint8_t, 2048> buffer{};
    while (!stop_) {
        pollfd p{socket_.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        sockaddr_in peer{};
        socklen_t len = sizeof(peer);
        const ssize_t n = ::recvfrom(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&peer), &len);
        if (n < 0) continue;
        {
            std::lock_guard lock(mutex_);
            peers_.emplace(Ipv4Address::from_be(Be32::from_raw(peer.sin_addr.s_addr)), ntohs(peer.sin_port));
        }
        ::sendto(socket_.get(), buffer.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer),
                 len);
    }
}

std::set<std::pair<Ipv4Address, std::uint16_t>> UdpEchoServer::peers() const {
    std::lock_guard lock(mutex_);
    return peers_;
}

Result<UdpFlows> UdpFlows::open(const Netns& ns, Ipv4Address dst, std::uint16_t port, std::size_t count) {
    if (Status st = raise_open_file_limit(count + 256); !st) return st;
    UdpFlows flows;
    Status status;
    const Status entered = run_in(ns, [&] {
        const sockaddr_in sa = to_sockaddr(dst, port);
        for (std::size_t i = 0; i < count && status; ++i) {
            Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
            if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
                status = sys_error("flow " + std::to_string(i) + " socket");
                return;
            }
            flows.sockets_.push_back(std::move(fd));
        }
    });
    if (!entered) return entered;
    if (!status) return status;
    return flows;
}

std::vector<bool> UdpFlows::exchange_round(std::uint32_t round) {
    std::vector<bool> answered(sockets_.size(), false);
    for (int attempt = 0; attempt < kTries; ++attempt) {
        for (std::size_t first = 0; first < sockets_.size(); first += kWindow) {
            const std::size_t last = std::min(first + kWindow, sockets_.size());
            std::vector<pollfd> waiting;
            std::vector<std::size_t> index;
            for (std::size_t i = first; i < last; ++i) {
                if (answered[i]) continue;
                const auto p = payload(static_cast<std::uint32_t>(i), round);
                // A refused or failed send counts as a loss: the retry or the verdict handles it.
                ::send(sockets_[i].get(), p.data(), p.size(), 0);
                waiting.push_back({sockets_[i].get(), POLLIN, 0});
                index.push_back(i);
            }
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReplyWaitMs);
            std::size_t outstanding = waiting.size();
            while (outstanding != 0 && std::chrono::steady_clock::now() < deadline) {
                if (::poll(waiting.data(), waiting.size(), 50) <= 0) continue;
                for (std::size_t w = 0; w < waiting.size(); ++w) {
                    if ((waiting[w].revents & POLLIN) == 0) continue;
                    std::array<std::uint8_t, 2 * kPayload> in{};
                    const ssize_t n = ::recv(waiting[w].fd, in.data(), in.size(), MSG_DONTWAIT);
                    const auto want = payload(static_cast<std::uint32_t>(index[w]), round);
                    if (n == static_cast<ssize_t>(kPayload) && std::memcmp(in.data(), want.data(), kPayload) == 0 &&
                        !answered[index[w]]) {
                        answered[index[w]] = true;
                        waiting[w].fd = -1;  // poll ignores it from now on
                        --outstanding;
                    }
                }
            }
        }
        if (count_answered(answered) == answered.size()) break;
    }
    return answered;
}

}  // namespace dpdock::test
