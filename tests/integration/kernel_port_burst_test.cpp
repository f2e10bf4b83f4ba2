// A kernel port's receive slots (dataplane/kernel_port/fastpath): the first
// kKernelScatterSlots of a recvmmsg land straight in chained mbufs, the rest
// in one mbuf plus the spill area. With dpdockd stopped (SIGSTOP), a container
// queues 20 TCP super-frames of 20-39 KB on its port; one call then takes
// them all, so both kinds of slot carry multi-mbuf frames. Each must reach
// the other container byte for byte, in order.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <csignal>
#include <cstring>
#include <optional>
#include <vector>

#include "dataplane/kernel_port/fastpath/kernel_port_io.hpp"
#include "dataplane/kernel_port/vnet_header.hpp"
#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/socket_util.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");
constexpr int kFrames = 20;
static_assert(kFrames > static_cast<int>(dataplane::kKernelScatterSlots));
constexpr std::uint16_t kDiscardPort = 9;

void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
    put16(f, at, static_cast<std::uint16_t>(v >> 16));
    put16(f, at + 2, static_cast<std::uint16_t>(v));
}

// Frame i: c1 -> c2, TCP to the discard port, a payload of 20,000 + 1,000 * i
// bytes that differ per frame; IPv4 header checksum valid, TCP's left to the
// offload (the receiving kernel's business, not this test's).
std::vector<std::uint8_t> super_frame(int i) {
    const std::size_t payload = 20000 + 1000 * static_cast<std::size_t>(i);
    std::vector<std::uint8_t> f(54 + payload);
    std::memcpy(f.data(), docker_mac_for(kC2).bytes().data(), 6);
    std::memcpy(f.data() + 6, docker_mac_for(kC1).bytes().data(), 6);
    put16(f, 12, 0x0800);
    f[14] = 0x45;
    put16(f, 16, static_cast<std::uint16_t>(40 + payload));
    put16(f, 18, static_cast<std::uint16_t>(i));
    put16(f, 20, 0x4000);  // DF
    f[22] = 64;
    f[23] = IPPROTO_TCP;
    put32(f, 26, kC1.host());
    put32(f, 30, kC2.host());
    std::uint32_t sum = 0;
    for (std::size_t k = 14; k < 34; k += 2) sum += (f[k] << 8) | f[k + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    put16(f, 24, static_cast<std::uint16_t>(~sum));
    put16(f, 34, 40000);
    put16(f, 36, kDiscardPort);
    put32(f, 38, 100000u * static_cast<std::uint32_t>(i));
    f[46] = 5 << 4;
    f[47] = 0x18;  // PSH ACK
    put16(f, 48, 65535);
    for (std::size_t k = 0; k < payload; ++k) f[54 + k] = static_cast<std::uint8_t>(i * 7 + k);
    return f;
}

TEST(KernelPortBurst, SuperFramesInScatterAndSpillSlotsArriveWhole) {
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1.path(), "[bridge]") +
                                    container_yaml("c2", c2.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(c1, kC2, 3)) << d->log();  // both MACs learned: no flooding

    int capture = -1, sender = -1, c1_eth0 = 0;
    ASSERT_TRUE(run_in(c2, [&] {
                    capture = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
                    const int buffer = 8 << 20;
                    ::setsockopt(capture, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
                }).ok());
    ASSERT_TRUE(run_in(c1, [&] {
                    sender = ::socket(AF_PACKET, SOCK_RAW, 0);
                    const int one = 1;
                    ::setsockopt(sender, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one);
                    c1_eth0 = static_cast<int>(if_nametoindex("eth0"));
                }).ok());
    const Fd capture_fd(capture), sender_fd(sender);
    ASSERT_GE(capture, 0);
    ASSERT_GE(sender, 0);
    ASSERT_GT(c1_eth0, 0);

    std::vector<std::vector<std::uint8_t>> frames;
    ASSERT_TRUE(d->process().send_signal(SIGSTOP).ok());
    for (int i = 0; i < kFrames; ++i) {
        frames.push_back(super_frame(i));
        const dataplane::VnetHeader vh{dataplane::kVnetNeedsCsum, 1 /* GSO TCPv4 */, 54, 1448, 34, 16};
        iovec iov[2] = {{const_cast<dataplane::VnetHeader*>(&vh), sizeof vh}, {frames.back().data(), frames.back().size()}};
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = c1_eth0;
        msghdr h{};
        h.msg_name = &to;
        h.msg_namelen = sizeof to;
        h.msg_iov = iov;
        h.msg_iovlen = 2;
        ASSERT_EQ(::sendmsg(sender, &h, 0), static_cast<ssize_t>(sizeof vh + frames.back().size())) << std::strerror(errno);
    }
    ASSERT_TRUE(d->process().send_signal(SIGCONT).ok());

    std::vector<std::uint8_t> buf(70000);
    int seen = 0;
    while (seen < kFrames) {
        pollfd p{capture, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) break;
        const auto n = ::recv(capture, buf.data(), buf.size(), 0);
        // Only the test's frames: TCP to the discard port (the kernel's RSTs go the other way).
        if (n < 54 || buf[23] != IPPROTO_TCP || ((buf[36] << 8) | buf[37]) != kDiscardPort) continue;
        const auto& want = frames[static_cast<std::size_t>(seen)];
        ASSERT_EQ(static_cast<std::size_t>(n), want.size()) << "frame " << seen;
        EXPECT_EQ(std::memcmp(buf.data(), want.data(), want.size()), 0) << "frame " << seen << " differs";
        ++seen;
    }
    EXPECT_EQ(seen, kFrames) << d->log();
    EXPECT_EQ(d->drops("kernel_rx_no_buffer"), 0u);
    EXPECT_EQ(d->drops("kernel_rx_truncated"), 0u);
}

}  // namespace
}  // namespace dpdock::test
