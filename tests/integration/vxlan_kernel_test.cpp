// VXLAN interop with the Linux kernel: a `remote` namespace plays a second
// host, whose kernel `vxlan` device (same VNI, port 4789) is bridged to a
// "remote container" namespace. A dpdock container on the overlay network
// pings it and exchanges a TCP stream with it (bytes compared) and UDP
// datagrams above the inner MTU; each side's FDB learns the other's MAC
// behind the other's VTEP.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("10.20.0.2");
const Ipv4Address kRemoteC = *Ipv4Address::parse("10.20.0.3");

TEST(VxlanKernelTest, ContainerTalksToAKernelVtepAndBothLearn) {
    // The remote host is the outside: its underlay address is the uplink's gateway.
    auto underlay = make_outside("192.168.79", "vu");
    ASSERT_TRUE(underlay.ok()) << underlay.message();
    const Netns& remote = underlay->ns;
    const std::string remote_host = underlay->ext_ip.to_string();
    const std::string local_host = underlay->host_ip.to_string();
    Netns rc = make_netns("vxc");
    Netns c1 = make_netns("c1");
    auto rc_link = VethPair::create(&remote, &rc, "vc");
    ASSERT_TRUE(rc_link.ok()) << rc_link.message();
    ASSERT_TRUE(rc_link->up_with_address(VethPair::Side::B, Ipv4Cidr(kRemoteC, 24)).ok());
    // The remote host: vxlan device and the remote container's veth on one bridge.
    // Checksums complete on the remote container's veth too: the inner packets cross dpdock as they are.
    ASSERT_EQ(remote.exec("ip link add vx0 type vxlan id 300 dstport 4789 local " + remote_host + " remote " +
                          local_host + " dev " + underlay->link.b_name() +
                          " && ip link add br0 type bridge && ip link set vx0 master br0 && "
                          "ip link set " + rc_link->a_name() + " master br0 && ip link set vx0 up && "
                          "ip link set br0 up && ip link set " + rc_link->a_name() + " up"),
              0);
    ASSERT_EQ(rc.exec("ip link set " + rc_link->b_name() + " mtu 1450 && ethtool -K " + rc_link->b_name() +
                      " tx off >/dev/null"),
              0);
    const std::string rc_mac = rc.exec_output("cat /sys/class/net/" + rc_link->b_name() + "/address");

    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + underlay->uplink_yaml() +
                                    "networks:\n  - name: ov\n    driver: overlay\n    subnet: 10.20.0.0/24\n"
                                    "    vni: 300\n    peers: [" + remote_host + "]\ncontainers:\n" +
                                    container_yaml("c1", c1.path(), "[ov]"));
    ASSERT_TRUE(d.ok()) << d.message();
    // Overlay containers get the uplink's MTU minus the 50 bytes of VXLAN.
    EXPECT_NE(c1.exec_output("ip -o link show eth0").find("mtu 1450"), std::string::npos);

    EXPECT_TRUE(ping(c1, kRemoteC, 3)) << d->log();
    auto tcp = tcp_transfer(direct_flow(rc, kRemoteC, 8080, c1), 400 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << d->log();
    EXPECT_EQ(tcp->client_ip, kC1);
    auto back = tcp_transfer(direct_flow(c1, kC1, 8081, rc), 200 * 1024);
    ASSERT_TRUE(back.ok()) << back.message() << "\n" << d->log();
    // Above the inner MTU (1450) without DF (issue 13): c1's kernel fragments
    // the datagram, its kernel port passes the fragments as they are, and each
    // fits the tunnel; the remote kernel reassembles, echoes, and its fragments
    // come back through decapsulation as they are.
    const auto fragmented_before = (*d->call("stats.show"))["fragmentation"];
    for (std::size_t bytes : {1800u, 3000u, 8000u}) {
        auto big = udp_exchange(direct_flow(rc, kRemoteC, 5354, c1), 5, bytes);
        ASSERT_TRUE(big.ok()) << bytes << " bytes: " << big.message() << "\n" << d->log();
    }
    EXPECT_EQ(d->drops("mtu_exceeded"), 0u);
    EXPECT_EQ(d->drops("bad_header"), 0u);
    EXPECT_EQ(d->drops("kernel_rx_truncated"), 0u);
    // Fragments already fit: dpdock cut none of them again.
    EXPECT_EQ((*d->call("stats.show"))["fragmentation"], fragmented_before);

    // dpdock learned the remote container's MAC behind the kernel's VTEP...
    auto fdb = d->call("overlay.fdb", {{"network", "ov"}});
    ASSERT_TRUE(fdb.ok()) << fdb.message();
    EXPECT_EQ((*fdb)["vni"], 300);
    bool learned = false, local_seen = false;
    for (const auto& e : (*fdb)["entries"]) {
        if (e["mac"] == rc_mac.substr(0, 17)) {
            learned = true;
            EXPECT_EQ(e["vtep"], remote_host) << e.dump();
            EXPECT_EQ(e["static"], false);
        }
        if (e["mac"] == docker_mac_for(kC1).to_string()) {
            local_seen = true;
            EXPECT_EQ(e["vtep"], "local") << e.dump();
        }
    }
    EXPECT_TRUE(learned) << rc_mac << " not in " << fdb->dump();
    EXPECT_TRUE(local_seen) << "c1's MAC not in " << fdb->dump();
    const std::string out = d->cli_expect("overlay fdb ov");
    EXPECT_NE(out.find(remote_host), std::string::npos) << out;
    // ...and the kernel learned dpdock's container behind dpdock's VTEP.
    const std::string kernel_fdb = remote.exec_output("bridge fdb show dev vx0");
    EXPECT_NE(kernel_fdb.find(docker_mac_for(kC1).to_string() + " dst " + local_host), std::string::npos)
        << kernel_fdb;

    // The overlay container reaches the outside (here the remote host's
    // underlay address) through this host's MASQUERADE, as Docker's overlay
    // containers do through their local gateway network.
    auto out_udp = udp_exchange(direct_flow(remote, underlay->ext_ip, 5353, c1), 20, 300);
    ASSERT_TRUE(out_udp.ok()) << out_udp.message() << "\n" << d->log();
    EXPECT_EQ(out_udp->client_ip, underlay->host_ip);

    for (const char* reason : {"vxlan_short", "vxlan_bad_flags", "vxlan_unknown_vni", "vxlan_unknown_peer"}) {
        EXPECT_EQ(d->drops(reason), 0u) << reason;
    }
}

TEST(VxlanKernelTest, PeersAndVnisThroughTheCli) {
    auto underlay = make_outside("192.168.79", "vp");
    ASSERT_TRUE(underlay.ok()) << underlay.message();
    auto d = DpdockdInstance::start(underlay->uplink_yaml());
    ASSERT_TRUE(d.ok()) << d.message();
    const auto [code, created] = d->cli("network create --driver overlay --subnet 10.30.0.0/24 ov1");
    ASSERT_EQ(code, 0) << created;
    auto ls = d->call("network.ls");
    ASSERT_TRUE(ls.ok());
    EXPECT_EQ((*ls)[1]["vni"], 256) << ls->dump();
    EXPECT_EQ((*ls)[1]["mtu"], 1450) << ls->dump();
    std::string out = d->cli_expect("network create --driver overlay --subnet 10.31.0.0/24 --vni 256 ov2", 1);
    EXPECT_NE(out.find("vni 256 is already used by network 'ov1'"), std::string::npos) << out;
    out = d->cli_expect("network create --driver overlay --subnet 10.31.0.0/24 --vni 4000 ov2", 1);
    EXPECT_NE(out.find("outside vxlan.vni-range 256-1000"), std::string::npos) << out;

    d->cli_expect("overlay peer add ov1 192.168.79.7");
    out = d->cli_expect("overlay peer add ov1 192.168.79.7", 1);
    EXPECT_NE(out.find("already a peer"), std::string::npos) << out;
    out = d->cli_expect("overlay peer ls ov1");
    EXPECT_NE(out.find("192.168.79.7"), std::string::npos) << out;
    out = d->cli_expect("overlay peer add bridge 192.168.79.8", 1);
    EXPECT_NE(out.find("not an overlay network"), std::string::npos) << out;
    // Saved with the network: VNI and peers come back from the file.
    auto saved = d->call("config.save");
    ASSERT_TRUE(saved.ok()) << saved.message();
    const std::string text = shell_output("cat " + d->config_path());
    EXPECT_NE(text.find("vni: 256"), std::string::npos) << text;
    EXPECT_NE(text.find("peers: [192.168.79.7]"), std::string::npos) << text;
    d->cli_expect("overlay peer rm ov1 192.168.79.7");
    auto peers = d->call("overlay.peer.ls", {{"network", "ov1"}});
    ASSERT_TRUE(peers.ok());
    EXPECT_TRUE((*peers)["peers"].empty()) << peers->dump();
}

}  // namespace
}  // namespace dpdock::test
