// Two dpdockd instances as two hosts: their uplinks meet on an underlay (a
// bridge in an `underlay` namespace). Containers of overlay network ov1
// (VNI 300) on both hosts talk; ov2 (VNI 301) works too but is isolated from
// ov1: a broadcast flooded over VNI 300 reaches ov1's container on the other
// host and not ov2's, and nothing of ov1 reaches ov2's FDB there.
#include <gtest/gtest.h>

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/socket_util.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

// One host's YAML: uplink on `ifname` at `address`, both overlay networks, the
// other host as their peer, and one container per network at fixed addresses.
std::string host_yaml(const std::string& ifname, const std::string& address, const std::string& peer,
                      const Netns& on_ov1, const std::string& ip1, const Netns& on_ov2, const std::string& ip2) {
    return "dataplane:\n  idle-sleep-us: 20\nuplink:\n  devargs: net_af_packet_" + ifname + ",iface=" + ifname +
           "\n  address: " + address + "/24\n  gateway: 192.168.80.1\nnetworks:\n"
           "  - {name: ov1, driver: overlay, subnet: 10.40.0.0/24, vni: 300, peers: [" + peer + "]}\n"
           "  - {name: ov2, driver: overlay, subnet: 10.41.0.0/24, vni: 301, peers: [" + peer + "]}\n"
           "containers:\n" +
           container_yaml("x1", on_ov1.path(), "[{name: ov1, ip: " + ip1 + "}]") +
           container_yaml("x2", on_ov2.path(), "[{name: ov2, ip: " + ip2 + "}]");
}

// Whether `network`'s FDB on `d` holds `mac`; a test failure (and false) when
// overlay.fdb fails, so that a check of absence cannot pass on an error.
bool fdb_has(const DpdockdInstance& d, const std::string& network, const MacAddress& mac) {
    auto fdb = d.call("overlay.fdb", {{"network", network}});
    if (!fdb.ok()) {
        ADD_FAILURE() << "overlay.fdb " << network << ": " << fdb.message();
        return false;
    }
    for (const auto& e : (*fdb)["entries"]) {
        if (e["mac"] == mac.to_string()) return true;
    }
    return false;
}

// The ARP requests a container's eth0 receives, told apart by content: the
// container's own neighbour traffic (probes, replies) does not count.
class ArpRequestWatch {
public:
    // Starts watching `c`'s eth0: an AF_PACKET socket opened inside c.
    static Result<ArpRequestWatch> start(const Netns& c) {
        Fd fd;
        Status opened;
        const Status entered = run_in(c, [&] {
            fd = Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)));
            if (fd.get() < 0) {
                opened = sys_error("socket(AF_PACKET) in " + c.name());
                return;
            }
            sockaddr_ll at{};
            at.sll_family = AF_PACKET;
            at.sll_protocol = htons(ETH_P_ARP);
            at.sll_ifindex = static_cast<int>(if_nametoindex("eth0"));
            if (at.sll_ifindex == 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
                opened = sys_error("bind to eth0 in " + c.name());
            }
        });
        if (!entered) return entered;
        if (!opened) return opened;
        return ArpRequestWatch(std::move(fd));
    }

    // Requests for `target` received since start() or the last call; reads
    // what has arrived, without waiting.
    int requests_for(Ipv4Address target) {
        constexpr std::size_t kOpcode = sizeof(ether_header) + 6, kTargetIp = sizeof(ether_header) + 24;
        const std::uint32_t wanted = target.be().raw();
        int seen = 0;
        std::array<std::uint8_t, 128> frame{};
        sockaddr_ll from{};
        socklen_t from_len = sizeof from;
        for (ssize_t n; (n = ::recvfrom(fd_.get(), frame.data(), frame.size(), MSG_DONTWAIT,
                                         reinterpret_cast<sockaddr*>(&from), &from_len)) >= 0;
             from_len = sizeof from) {
            if (from.sll_pkttype == PACKET_OUTGOING || static_cast<std::size_t>(n) < kTargetIp + 4) continue;
            const bool request = frame[kOpcode] == 0 && frame[kOpcode + 1] == 1;
            if (request && std::memcmp(frame.data() + kTargetIp, &wanted, 4) == 0) ++seen;
        }
        return seen;
    }

private:
    explicit ArpRequestWatch(Fd fd) : fd_(std::move(fd)) {}
    Fd fd_;
};

TEST(VxlanTwoHostsTest, OverlayNetworksSpanHostsAndStayApart) {
    Netns underlay = make_netns("vxu");
    ASSERT_EQ(underlay.exec("ip link add br0 type bridge && ip addr add 192.168.80.1/24 dev br0 && "
                            "ip link set br0 up"),
              0);
    auto link_a = VethPair::create(nullptr, &underlay, "va");
    ASSERT_TRUE(link_a.ok()) << link_a.message();
    auto link_b = VethPair::create(nullptr, &underlay, "vb");
    ASSERT_TRUE(link_b.ok()) << link_b.message();
    for (const auto* link : {&*link_a, &*link_b}) {
        ASSERT_EQ(shell("ip link set " + link->a_name() + " up"), 0);
        ASSERT_EQ(underlay.exec("ip link set " + link->b_name() + " master br0 && ip link set " + link->b_name() +
                                " up"),
                  0);
    }
    Netns a1 = make_netns("a1"), a2 = make_netns("a2"), b1 = make_netns("b1"), b2 = make_netns("b2");
    auto host_a = DpdockdInstance::start(
        host_yaml(link_a->a_name(), "192.168.80.2", "192.168.80.3", a1, "10.40.0.11", a2, "10.41.0.11"));
    ASSERT_TRUE(host_a.ok()) << host_a.message();
    auto host_b = DpdockdInstance::start(
        host_yaml(link_b->a_name(), "192.168.80.3", "192.168.80.2", b1, "10.40.0.12", b2, "10.41.0.12"));
    ASSERT_TRUE(host_b.ok()) << host_b.message();

    const Ipv4Address ip_a1 = *Ipv4Address::parse("10.40.0.11"), ip_b1 = *Ipv4Address::parse("10.40.0.12");
    const Ipv4Address ip_a2 = *Ipv4Address::parse("10.41.0.11"), ip_b2 = *Ipv4Address::parse("10.41.0.12");
    EXPECT_TRUE(ping(a1, ip_b1, 3)) << host_a->log() << host_b->log();
    auto tcp = tcp_transfer(direct_flow(b1, ip_b1, 8080, a1), 300 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << host_a->log() << host_b->log();
    EXPECT_EQ(tcp->client_ip, ip_a1);
    EXPECT_TRUE(ping(b2, ip_a2, 3)) << host_a->log() << host_b->log();

    // Each host learned the other's container behind the other's VTEP, in its own network only.
    EXPECT_TRUE(fdb_has(*host_a, "ov1", docker_mac_for(ip_b1)));
    EXPECT_TRUE(fdb_has(*host_b, "ov1", docker_mac_for(ip_a1)));
    EXPECT_TRUE(fdb_has(*host_a, "ov2", docker_mac_for(ip_b2)));
    EXPECT_FALSE(fdb_has(*host_b, "ov1", docker_mac_for(ip_a2)));
    EXPECT_FALSE(fdb_has(*host_b, "ov2", docker_mac_for(ip_a1)));

    // a1 asks for an address nobody has in ov1: its ARP requests are flooded
    // over VNI 300 to host B, which delivers them to ov1's container b1 and
    // not to ov2's b2. b1 seeing them shows the flood reached host B; b2 would
    // have been sent its copy in that same flood.
    const Ipv4Address nobody = *Ipv4Address::parse("10.40.0.99");
    auto on_ov1 = ArpRequestWatch::start(b1);
    ASSERT_TRUE(on_ov1.ok()) << on_ov1.message();
    auto on_ov2 = ArpRequestWatch::start(b2);
    ASSERT_TRUE(on_ov2.ok()) << on_ov2.message();
    EXPECT_FALSE(ping(a1, nobody, 1, 2));
    EXPECT_GE(on_ov1->requests_for(nobody), 1) << host_a->log() << host_b->log();
    EXPECT_EQ(on_ov2->requests_for(nobody), 0);
    for (const DpdockdInstance* host : {&*host_a, &*host_b}) {
        for (const char* reason : {"vxlan_short", "vxlan_bad_flags", "vxlan_unknown_vni", "vxlan_unknown_peer"}) {
            EXPECT_EQ(host->drops(reason), 0u) << reason << " on " << host->dir();
        }
    }
}

}  // namespace
}  // namespace dpdock::test
