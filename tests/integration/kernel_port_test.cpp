// Kernel ports (dataplane/kernel_port): containers keep the kernel's default
// offloads, GSO super-frames cross the bridge whole, fragments pass, and a
// port hears nothing of other interfaces while it is being attached.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <chrono>
#include <thread>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/socket_util.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");

// Frames of the noise source: local experimental ethertype, a marker source MAC.
constexpr std::uint16_t kNoiseEthertype = 0x88b5;
constexpr std::array<std::uint8_t, 6> kNoiseMac = {0x02, 0xde, 0xad, 0xbe, 0xef, 0x01};

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    return static_cast<bool>(out);
}

std::uint64_t stat(const std::optional<nlohmann::json>& port, const char* key) {
    return port ? (*port)[key].get<std::uint64_t>() : 0;
}

class KernelPortTest : public ::testing::Test {
protected:
    void SetUp() override {
        c1_.emplace(make_netns("c1"));
        c2_.emplace(make_netns("c2"));
    }
    Result<DpdockdInstance> start_two() {
        return DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                      container_yaml("c1", c1_->path(), "[bridge]") +
                                      container_yaml("c2", c2_->path(), "[bridge]"));
    }
    std::optional<Netns> c1_, c2_;
};

TEST_F(KernelPortTest, TcpWithDefaultOffloadsCrossesAsWholeSuperFrames) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    // No ethtool changes: the kernel's defaults (checksum offload, TSO) stay on.
    EXPECT_NE(c1_->exec_output("ethtool -k eth0").find("tx-checksumming: on"), std::string::npos);
    EXPECT_NE(c1_->exec_output("ethtool -k eth0").find("tcp-segmentation-offload: on"), std::string::npos);
    ASSERT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    auto st = tcp_transfer(*c2_, kC2, 5201, *c1_, 32u << 20);
    ASSERT_TRUE(st.ok()) << st.message() << d->log();

    // The connection's last ACKs may still cross while counters are read (the
    // kernel ports' and the ports' are two reads): wait until they are still.
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto again = d->call("stats.show");
        ASSERT_TRUE(again.ok()) << again.message();
        const bool still = (*again)["kernel_ports"]["rx_frames"] == (*stats)["kernel_ports"]["rx_frames"];
        stats = std::move(again);
        if (still) break;
    }
    const auto& kernel = (*stats)["kernel_ports"];
    // Super-frames came in from the sender and went out whole to the receiver.
    EXPECT_GT(kernel["gso_rx"].get<std::uint64_t>(), 100u) << kernel.dump();
    EXPECT_GT(kernel["gso_tx"].get<std::uint64_t>(), 100u) << kernel.dump();
    EXPECT_GT(kernel["partial_csum_rx"].get<std::uint64_t>(), 0u) << kernel.dump();
    // 32 MiB each way in far fewer packets than 1500-byte segments would take.
    const auto p1 = d->port_stats("c1/bridge");
    ASSERT_TRUE(p1);
    EXPECT_GT(stat(p1, "rx_bytes"), 32u << 20);
    EXPECT_GT(stat(p1, "rx_bytes") / std::max<std::uint64_t>(stat(p1, "rx_packets"), 1), 3000u) << p1->dump();
    EXPECT_EQ(stat(p1, "drops"), 0u) << p1->dump();
    // The system calls: every frame of both ports came through recvmmsg and
    // left through sendmmsg, in batches.
    const auto p2 = d->port_stats("c2/bridge");
    ASSERT_TRUE(p2);
    EXPECT_EQ(kernel["rx_frames"].get<std::uint64_t>(), stat(p1, "rx_packets") + stat(p2, "rx_packets"));
    EXPECT_EQ(kernel["tx_frames"].get<std::uint64_t>(), stat(p1, "tx_packets") + stat(p2, "tx_packets"));
    EXPECT_GT(kernel["rx_calls"].get<std::uint64_t>(), kernel["rx_empty_calls"].get<std::uint64_t>()) << kernel.dump();
    EXPECT_GT(kernel["tx_calls"].get<std::uint64_t>(), 0u) << kernel.dump();
    EXPECT_LE(kernel["tx_calls"].get<std::uint64_t>(), kernel["tx_frames"].get<std::uint64_t>()) << kernel.dump();
}

TEST_F(KernelPortTest, UdpDatagramsPassFragmentedAndWhole) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    // 1472 fills one 1500-byte packet; 3000 and 8000 leave the container as
    // IPv4 fragments, which must pass as they are (no reassembly on the way).
    std::uint16_t port = 5301;
    for (std::size_t payload : {1472u, 3000u, 8000u}) {
        auto st = udp_exchange(*c2_, kC2, port++, *c1_, 20, payload);
        EXPECT_TRUE(st.ok()) << payload << " bytes: " << st.message();
    }
    const auto p1 = d->port_stats("c1/bridge");
    ASSERT_TRUE(p1);
    EXPECT_EQ(stat(p1, "drops"), 0u) << p1->dump();
}

// Sends marker frames out of `ifname` (in the test's namespace) until stopped.
class NoiseSource {
public:
    explicit NoiseSource(const std::string& ifname) : ifindex_(static_cast<int>(if_nametoindex(ifname.c_str()))) {
        thread_ = std::thread([this] { run(); });
    }
    ~NoiseSource() { stop(); }
    std::uint64_t stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        return sent_;
    }

private:
    void run() {
        const Fd fd(::socket(AF_PACKET, SOCK_RAW, 0));
        if (fd.get() < 0) return;
        std::array<std::uint8_t, 64> frame{};
        std::memset(frame.data(), 0xff, 6);  // broadcast: a leaked frame is flooded to every member
        std::memcpy(frame.data() + 6, kNoiseMac.data(), kNoiseMac.size());
        frame[12] = kNoiseEthertype >> 8;
        frame[13] = kNoiseEthertype & 0xff;
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        while (!stop_) {
            if (::sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) {
                ++sent_;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    int ifindex_;
    std::atomic<bool> stop_{false};
    std::uint64_t sent_ = 0;
    std::thread thread_;
};

// Counts marker frames arriving on eth0 of a namespace until stopped.
class NoiseCapture {
public:
    explicit NoiseCapture(const Netns& ns) {
        thread_ = std::thread([this, &ns] {
            run_in(ns, [this] {
                const Fd fd(::socket(AF_PACKET, SOCK_RAW, htons(kNoiseEthertype)));
                opened_ = fd.get() >= 0;
                ready_ = true;
                std::array<std::uint8_t, 2048> buf{};
                while (!stop_ && fd.get() >= 0) {
                    pollfd p{fd.get(), POLLIN, 0};
                    if (::poll(&p, 1, 50) <= 0) continue;
                    const auto n = ::recv(fd.get(), buf.data(), buf.size(), 0);
                    if (n >= 14 && std::memcmp(buf.data() + 6, kNoiseMac.data(), 6) == 0) ++seen_;
                }
            });
            ready_ = true;
        });
        while (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~NoiseCapture() { stop(); }
    std::uint64_t stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        return seen_;
    }
    bool opened() const { return opened_; }

private:
    std::atomic<bool> stop_{false}, ready_{false}, opened_{false};
    std::atomic<std::uint64_t> seen_{0};
    std::thread thread_;
};

TEST_F(KernelPortTest, FramesOfOtherInterfacesNeverLeakIntoAnAttachingPort) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    auto noise = VethPair::create(nullptr, nullptr, "lk");
    ASSERT_TRUE(noise.ok()) << noise.message();
    ASSERT_EQ(shell("ip link set " + noise->a_name() + " up && ip link set " + noise->b_name() + " up"), 0);

    NoiseCapture capture(*c1_);
    ASSERT_TRUE(capture.opened());
    NoiseSource source(noise->a_name());
    Netns c3 = make_netns("c3");
    for (int i = 0; i < 5; ++i) {
        auto attached = d->call("container.attach", {{"name", "c3"}, {"netns", c3.path()}});
        ASSERT_TRUE(attached.ok()) << attached.message();
        EXPECT_TRUE(ping(c3, kC1, 1, 3)) << "round " << i;
        auto detached = d->call("container.detach", {{"name", "c3"}});
        ASSERT_TRUE(detached.ok()) << detached.message();
    }
    const std::uint64_t sent = source.stop();
    const std::uint64_t leaked = capture.stop();
    EXPECT_GT(sent, 100u);  // the noise flowed during the attaches
    EXPECT_EQ(leaked, 0u) << "frames of " << noise->a_name() << " reached the network";
}

TEST_F(KernelPortTest, FramesOfOtherInterfacesNeverLeakThroughAHotPluggedDpdkPort) {
    // DPDK 22.11's af_packet hears every interface until it is bound to its
    // own: Dataplane::add_port must discard what it queued meanwhile.
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    auto noise = VethPair::create(nullptr, nullptr, "lk");
    ASSERT_TRUE(noise.ok()) << noise.message();
    auto raw = VethPair::create(nullptr, nullptr, "rp");
    ASSERT_TRUE(raw.ok()) << raw.message();
    ASSERT_EQ(shell("ip link set " + noise->a_name() + " up && ip link set " + noise->b_name() + " up && ip link set " +
                    raw->a_name() + " up && ip link set " + raw->b_name() + " up"),
              0);
    const std::string containers = "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") +
                                   container_yaml("c2", c2_->path(), "[bridge]");
    const std::string without = d->dir() + "/without_port.yaml";
    const std::string with = d->dir() + "/with_port.yaml";
    ASSERT_TRUE(write_file(without, "dataplane:\n  idle-sleep-us: 20\n" + containers));
    ASSERT_TRUE(write_file(with, "dataplane:\n  idle-sleep-us: 20\n" + containers + "ports:\n  - name: raw\n" +
                                     "    devargs: net_af_packet_" + raw->a_name() + ",iface=" + raw->a_name() +
                                     "\n    network: bridge\n"));

    NoiseCapture capture(*c1_);
    ASSERT_TRUE(capture.opened());
    NoiseSource source(noise->a_name());
    for (int i = 0; i < 5; ++i) {
        auto added = d->call("config.reload", {{"path", with}});
        ASSERT_TRUE(added.ok()) << added.message();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto removed = d->call("config.reload", {{"path", without}});
        ASSERT_TRUE(removed.ok()) << removed.message();
    }
    const std::uint64_t sent = source.stop();
    const std::uint64_t leaked = capture.stop();
    EXPECT_GT(sent, 100u);  // the noise flowed during the attaches
    EXPECT_EQ(leaked, 0u) << "frames of " << noise->a_name() << " reached the network";
}

// A worker that sleeps long when idle still forwards a container's packet at
// once: the packet on its port's socket (or TAP) wakes it (fastpath/idle_wait.hpp).
// With a fixed 300 ms sleep, the old timed sleep made each ping wait for the
// sleep's end (0-300 ms, uniformly); eight of them all under 100 ms would be
// chance (1 in 6,561). The replies come back while the worker still polls.
Result<DpdockdInstance> start_sleepy(const Netns& c1, const Netns& c2, const std::string& c2_method) {
    return DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 300000\n  idle-sleep-max-us: 300000\n"
                                  "containers:\n" + container_yaml("c1", c1.path(), "[bridge]") +
                                  container_yaml("c2", c2.path(), "[bridge]", c2_method));
}

void expect_prompt_pings(DpdockdInstance& d, const Netns& from, const std::string& to) {
    ASSERT_TRUE(ping(from, *Ipv4Address::parse(to), 2)) << d.log();
    const std::string out = from.exec_output("ping -n -c 8 -i 0.35 -W 2 " + to);
    const auto at = out.find("rtt min/avg/max/mdev = ");
    ASSERT_NE(at, std::string::npos) << out;
    double rtt_min = 0, rtt_avg = 0, rtt_max = 0;
    ASSERT_EQ(std::sscanf(out.c_str() + at, "rtt min/avg/max/mdev = %lf/%lf/%lf", &rtt_min, &rtt_avg, &rtt_max), 3)
        << out;
    EXPECT_LT(rtt_max, 100.0) << out;
    auto stats = d.call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    const auto& idle = (*stats)["workers"][0]["idle"];
    // Each ping's request woke the worker through the sender's port.
    EXPECT_GE(idle["rx_after_fd_wake"].get<std::uint64_t>(), 8u) << idle.dump();
    EXPECT_GT(idle["waits"].get<std::uint64_t>(), idle["fd_wakes"].get<std::uint64_t>()) << idle.dump();
}

TEST_F(KernelPortTest, AnIdleWorkerWakesWhenAPacketArrivesOnItsPorts) {
    auto d = start_sleepy(*c1_, *c2_, "veth");
    ASSERT_TRUE(d.ok()) << d.message();
    expect_prompt_pings(*d, *c1_, "172.17.0.3");
}

TEST_F(KernelPortTest, AnIdleWorkerWakesWhenAPacketArrivesOnATap) {
    auto d = start_sleepy(*c1_, *c2_, "tap");
    ASSERT_TRUE(d.ok()) << d.message();
    expect_prompt_pings(*d, *c2_, "172.17.0.2");  // requests come in on c2's TAP
}

}  // namespace
}  // namespace dpdock::test
