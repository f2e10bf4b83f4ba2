// Flow spreading end to end: with two workers, the packets one container port
// receives are shared by both workers (dataplane/fastpath/spread.hpp), and
// every flow still arrives complete and in order. 64 UDP flows from one
// container, each datagram numbered, to another container through the bridge
// and to an outside server through MASQUERADE; the receiver checks each
// flow's numbers, and stats.show shows that both workers transmitted a share.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/socket_util.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint32_t kFlows = 64;
constexpr std::uint32_t kRounds = 100;  // datagrams per flow
constexpr std::uint16_t kPort = 7300;

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");

struct Datagram {
    std::uint32_t flow;
    std::uint32_t seq;
    std::array<std::uint8_t, 56> filler;
};

// Receives the numbered datagrams in `ns`; per flow, the next number expected
// and how many arrived out of order or twice.
class SequenceReceiver {
public:
    Status start(const Netns& ns, Ipv4Address ip) {
        Status opened = Status::error("not opened");
        const Status entered = run_in(ns, [&] {
            Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            const int buf = 8 << 20;
            const sockaddr_in sa = to_sockaddr(ip, kPort);
            if (fd.get() < 0 || ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0 ||
                ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
                opened = sys_error("receiver socket");
                return;
            }
            socket_ = std::move(fd);
            opened = {};
        });
        if (!entered) return entered;
        if (!opened) return opened;
        thread_ = std::thread([this] { receive(); });
        return {};
    }
    ~SequenceReceiver() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    // Waits until every datagram arrived or `timeout` passed.
    void wait(std::chrono::milliseconds timeout) const {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (received_.load() < kFlows * kRounds && std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    std::uint32_t received() const { return received_.load(); }
    // Flows whose datagrams did not arrive exactly as 0, 1, ..., kRounds-1.
    std::vector<std::uint32_t> broken_flows() const {
        std::lock_guard lock(mutex_);
        std::vector<std::uint32_t> broken;
        for (std::uint32_t f = 0; f < kFlows; ++f) {
            if (next_[f] != kRounds || disorder_[f] != 0) broken.push_back(f);
        }
        return broken;
    }

private:
    void receive() {
        while (!stop_) {
            pollfd p{socket_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            Datagram d{};
            const ssize_t n = ::recv(socket_.get(), &d, sizeof d, 0);
            if (n != static_cast<ssize_t>(sizeof d) || d.flow >= kFlows) continue;
            std::lock_guard lock(mutex_);
            if (d.seq == next_[d.flow]) {
                ++next_[d.flow];
            } else {
                ++disorder_[d.flow];
            }
            ++received_;
        }
    }

    Fd socket_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint32_t> received_{0};
    mutable std::mutex mutex_;
    std::array<std::uint32_t, kFlows> next_{};
    std::array<std::uint32_t, kFlows> disorder_{};
};

// kFlows connected sockets in `ns` (one source port each); every round sends
// one datagram per flow, a round every 2 ms (32,000 packets a second).
Status send_flows(const Netns& ns, Ipv4Address dst) {
    std::vector<Fd> sockets;
    Status opened;
    const Status entered = run_in(ns, [&] {
        const sockaddr_in sa = to_sockaddr(dst, kPort);
        for (std::uint32_t f = 0; f < kFlows; ++f) {
            Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
                opened = sys_error("flow socket");
                return;
            }
            sockets.push_back(std::move(fd));
        }
    });
    if (!entered) return entered;
    if (!opened) return opened;
    for (std::uint32_t r = 0; r < kRounds; ++r) {
        for (std::uint32_t f = 0; f < kFlows; ++f) {
            Datagram d{f, r, {}};
            if (::send(sockets[f].get(), &d, sizeof d, 0) != static_cast<ssize_t>(sizeof d)) return sys_error("send");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return {};
}

// Each worker's tx_packets from stats.show.
std::vector<std::uint64_t> worker_tx(const DpdockdInstance& d) {
    std::vector<std::uint64_t> tx;
    auto stats = d.call("stats.show");
    if (!stats.ok()) return tx;
    for (const auto& w : (*stats)["workers"]) tx.push_back(w["tx_packets"].get<std::uint64_t>());
    return tx;
}

// Sends the flows from `from` to dst (received in `to`) and checks that each
// arrived whole and in order, and that each of the two workers transmitted at
// least a tenth of them.
void expect_spread_and_ordered(const DpdockdInstance& d, const Netns& from, const Netns& to, Ipv4Address dst) {
    SequenceReceiver receiver;
    ASSERT_TRUE(receiver.start(to, dst).ok());
    ASSERT_TRUE(send_flows(from, dst).ok());
    receiver.wait(std::chrono::seconds(5));
    EXPECT_EQ(receiver.received(), kFlows * kRounds) << d.log();
    EXPECT_TRUE(receiver.broken_flows().empty()) << receiver.broken_flows().size() << " flows out of order or incomplete";
}

class SpreadTest : public ::testing::Test {
protected:
    void SetUp() override {
        c1_.emplace(make_netns("c1"));
        c2_.emplace(make_netns("c2"));
    }
    std::optional<Netns> c1_, c2_;
};

TEST_F(SpreadTest, TwoWorkersShareOnePortsFlowsInOrder) {
    auto outside = make_outside("192.168.83", "sp");
    ASSERT_TRUE(outside.ok()) << outside.message();
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\n  spread-flows: true\n" +
                                    outside->uplink_yaml(2) +
                                    "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(*c1_, kC2, 1)) << d->log();
    ASSERT_TRUE(ping(*c1_, outside->ext_ip, 1)) << d->log();

    struct Case {
        const char* what;
        const Netns& to;
        Ipv4Address dst;
    };
    for (const Case& c : {Case{"bridge", *c2_, kC2}, Case{"masquerade", outside->ns, outside->ext_ip}}) {
        SCOPED_TRACE(c.what);
        const auto before = worker_tx(*d);
        expect_spread_and_ordered(*d, *c1_, c.to, c.dst);
        const auto after = worker_tx(*d);
        ASSERT_EQ(before.size(), 2u);
        ASSERT_EQ(after.size(), 2u);
        // One-way traffic from one port: both workers forwarded a share of it.
        for (std::size_t w = 0; w < 2; ++w) {
            EXPECT_GE(after[w] - before[w], kFlows * kRounds / 10) << "worker " << w << "\n" << d->cli_expect("stats");
        }
    }
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    std::uint64_t in = 0, out = 0;
    for (const auto& w : (*stats)["workers"]) {
        in += w["spread_in"].get<std::uint64_t>();
        out += w["spread_out"].get<std::uint64_t>();
    }
    EXPECT_GT(in, 0u);
    EXPECT_EQ(in, out);  // nothing was lost between workers
    EXPECT_EQ(d->drops("spread_full"), 0u);
}

// TAP containers with two workers: each TAP has a queue per worker (net_tap
// wants as many rx as tx queues), the kernel spreads the container's flows
// over them and worker q polls queue q; every flow still arrives whole and in
// order, and both workers carry a share.
TEST_F(SpreadTest, TapContainersShareTheirFlowsInOrder) {
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\n  spread-flows: true\n"
                                    "containers:\n" +
                                    container_yaml("c1", c1_->path(), "[bridge]", "tap") +
                                    container_yaml("c2", c2_->path(), "[bridge]", "tap"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(*c1_, kC2, 1)) << d->log();
    const auto before = worker_tx(*d);
    expect_spread_and_ordered(*d, *c1_, *c2_, kC2);
    const auto after = worker_tx(*d);
    ASSERT_EQ(before.size(), 2u);
    ASSERT_EQ(after.size(), 2u);
    for (std::size_t w = 0; w < 2; ++w) {
        EXPECT_GE(after[w] - before[w], kFlows * kRounds / 10) << "worker " << w << "\n" << d->cli_expect("stats");
    }
}

TEST_F(SpreadTest, SpreadingOffKeepsAPortOnItsWorker) {
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\n  spread-flows: false\n"
                                    "containers:\n" +
                                    container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(*c1_, kC2, 1)) << d->log();
    expect_spread_and_ordered(*d, *c1_, *c2_, kC2);
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    for (const auto& w : (*stats)["workers"]) EXPECT_EQ(w["spread_in"], 0u) << stats->dump();
}

// A worker asleep in a long idle wait takes the packets another worker hands
// it at once: the hand-over rings its doorbell (dataplane/doorbells.hpp).
// Before, they waited for the end of its sleep (here a fixed 300 ms), and so
// did each ping whose request or reply crossed between the workers.
TEST_F(SpreadTest, AHandedOverPacketWakesItsSleepingOwner) {
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  spread-flows: true\n"
                                    "  idle-sleep-us: 300000\n  idle-sleep-max-us: 300000\n"
                                    "containers:\n" +
                                    container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(*c1_, kC2, 2)) << d->log();
    const auto handed = [&] {
        auto stats = d->call("stats.show");
        std::uint64_t in = 0;
        if (stats.ok()) {
            for (const auto& w : (*stats)["workers"]) in += w["spread_in"].get<std::uint64_t>();
        }
        return in;
    };
    const std::uint64_t before = handed();
    const std::string out = c1_->exec_output("ping -n -c 8 -i 0.35 -W 2 172.17.0.3");
    const auto at = out.find("rtt min/avg/max/mdev = ");
    ASSERT_NE(at, std::string::npos) << out;
    double rtt_min = 0, rtt_avg = 0, rtt_max = 0;
    ASSERT_EQ(std::sscanf(out.c_str() + at, "rtt min/avg/max/mdev = %lf/%lf/%lf", &rtt_min, &rtt_avg, &rtt_max), 3)
        << out;
    // Every ping crossed between the workers at least one way, or this test shows nothing.
    ASSERT_GE(handed() - before, 8u) << d->cli_expect("stats");
    EXPECT_LT(rtt_max, 100.0) << out;
}

}  // namespace
}  // namespace dpdock::test
