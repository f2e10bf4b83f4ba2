// ICMP errors, ICC and isolation end to end, with the kernel's own tools as
// the judges: `ping -t 1` sees "Time to live exceeded" from the gateway,
// `ping -M do` sees "Frag needed" with the uplink's MTU, a connected UDP
// socket sees ECONNREFUSED from a closed port in `ext` (the port unreachable
// translated back to the container); enable_icc=false stops pings between
// two containers but not to the gateway or the outside; a container reaches
// another network's containers only through a network they share.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "config/loader.hpp"
#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const std::string kGatewayIp = "172.17.0.1";

// `ext` behind the uplink at 192.168.79.1; fails the test (throws) when it cannot be made.
Outside outside() {
    auto made = make_outside("192.168.79", "ic");
    if (!made) throw std::runtime_error(made.message());
    return std::move(*made);
}

// dpdockd with `ext` behind its uplink; `rest` adds networks and containers.
Result<DpdockdInstance> start_daemon(const Outside& out, const std::string& rest, unsigned uplink_mtu = 1500) {
    return DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" +
                                  out.uplink_yaml(1, "  mtu: " + std::to_string(uplink_mtu) + "\n") + rest);
}

TEST(IcmpErrorsTest, PingWithTtlOneGetsTimeExceededFromTheGateway) {
    Outside out = outside();
    Netns c1 = make_netns("c1");
    auto d = start_daemon(out, "containers:\n" + container_yaml("c1", c1.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(c1, out.ext_ip, 1)) << d->log();
    const std::string text = c1.exec_output("ping -n -c 1 -W 3 -t 1 " + out.ext_ip.to_string() + " 2>&1");
    EXPECT_NE(text.find("From " + kGatewayIp + " icmp_seq=1 Time to live exceeded"), std::string::npos) << text;
    EXPECT_EQ(d->drops("ttl_exceeded"), 1u);
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_EQ((*stats)["icmp_errors"]["sent"].get<std::uint64_t>(), 1u) << stats->dump();
    const std::string table = d->cli_expect("stats");
    EXPECT_NE(table.find("icmp errors sent 1, suppressed 0"), std::string::npos) << table;
}

TEST(IcmpErrorsTest, DfPacketsLargerThanTheUplinkMtuGetFragmentationNeeded) {
    Outside out = outside();
    Netns c1 = make_netns("c1");
    auto d = start_daemon(out, "containers:\n" + container_yaml("c1", c1.path(), "[bridge]"), 1400);
    ASSERT_TRUE(d.ok()) << d.message();
    // 1372 bytes of data + 8 ICMP + 20 IPv4 = 1400: fits exactly.
    EXPECT_EQ(c1.exec("ping -n -c 1 -W 3 -M do -s 1372 " + out.ext_ip.to_string() + " >/dev/null"), 0) << d->log();
    const std::string text = c1.exec_output("ping -n -c 1 -W 3 -M do -s 1373 " + out.ext_ip.to_string() + " 2>&1");
    EXPECT_NE(text.find("From " + kGatewayIp + " icmp_seq=1 Frag needed and DF set (mtu = 1400)"), std::string::npos)
        << text;
    EXPECT_EQ(d->drops("frag_needed"), 1u);
    // The container's kernel learnt the path MTU: it now refuses by itself.
    const std::string again = c1.exec_output("ping -n -c 1 -W 3 -M do -s 1373 " + out.ext_ip.to_string() + " 2>&1");
    EXPECT_NE(again.find("mtu=1400"), std::string::npos) << again;
}

TEST(IcmpErrorsTest, PortUnreachableFromExtReachesTheContainersUdpSocket) {
    Outside out = outside();
    Netns c1 = make_netns("c1");
    auto d = start_daemon(out, "containers:\n" + container_yaml("c1", c1.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    int error = 0;
    auto st = run_in(c1, [&] {
        const int fd = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9);  // nothing listens on ext
        to.sin_addr.s_addr = out.ext_ip.be().raw();
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            error = -1;
        } else {
            // ARP on the uplink may hold the first datagram back; the error arrives once it is out.
            for (int attempt = 0; attempt < 5 && error == 0; ++attempt) {
                (void)send(fd, "x", 1, 0);
                pollfd p{fd, POLLIN, 0};
                if (poll(&p, 1, 1000) == 1) {
                    char b;
                    if (recv(fd, &b, 1, 0) < 0) error = errno;
                }
            }
        }
        if (fd >= 0) close(fd);
    });
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(error, ECONNREFUSED) << d->log();
}

TEST(IccTest, IccOffBlocksContainerToContainerButNotTheGatewayOrTheOutside) {
    Outside out = outside();
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");
    auto d = start_daemon(
        out,
        "networks:\n  - name: quiet\n    subnet: 10.91.0.0/24\n    options:\n"
        "      com.docker.network.bridge.enable_icc: \"false\"\n"
        "containers:\n" +
        container_yaml("c1", c1.path(), "[{name: quiet, ip: 10.91.0.10}]") +
        container_yaml("c2", c2.path(), "[{name: quiet, ip: 10.91.0.20}]"));
    ASSERT_TRUE(d.ok()) << d.message();
    const Ipv4Address gateway = *Ipv4Address::parse("10.91.0.1");
    for (const Netns* c : {&c1, &c2}) {
        EXPECT_TRUE(ping(*c, gateway, 2)) << d->log();
        EXPECT_TRUE(ping(*c, out.ext_ip, 2)) << d->log();
    }
    EXPECT_FALSE(ping(c1, *Ipv4Address::parse("10.91.0.20"), 1, 2));
    EXPECT_FALSE(ping(c2, *Ipv4Address::parse("10.91.0.10"), 1, 2));
    EXPECT_GE(d->drops("icc_blocked"), 2u);
    // ARP is not IPv4: c1 did resolve c2, only the ping was stopped.
    const std::string neigh = c1.exec_output("ip neigh show 10.91.0.20");
    EXPECT_NE(neigh.find("lladdr 02:42:0a:5b:00:14"), std::string::npos) << neigh;
    // The option round-trips through config save.
    const std::string path = d->dir() + "/saved.yaml";
    ASSERT_TRUE(d->call("config.save", {{"path", path}}).ok());
    auto saved = config::load_file(path);
    ASSERT_TRUE(saved.ok()) << saved.message();
    ASSERT_EQ(saved->networks.size(), 1u);
    EXPECT_FALSE(config::icc_enabled(saved->networks[0]));
}

TEST(IsolationTest, NetworksReachEachOtherOnlyThroughASharedNetwork) {
    Outside out = outside();
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");
    Netns c3 = make_netns("c3");
    // c1 on a and c, c2 on b and c, c3 on a only.
    auto d = start_daemon(
        out,
        "networks:\n  - {name: a, subnet: 10.81.0.0/24}\n  - {name: b, subnet: 10.82.0.0/24}\n"
        "  - {name: c, subnet: 10.83.0.0/24}\n"
        "containers:\n" +
        container_yaml("c1", c1.path(), "[{name: a, ip: 10.81.0.10}, {name: c, ip: 10.83.0.10}]") +
        container_yaml("c2", c2.path(), "[{name: b, ip: 10.82.0.20}, {name: c, ip: 10.83.0.20}]") +
        container_yaml("c3", c3.path(), "[{name: a, ip: 10.81.0.30}]"));
    ASSERT_TRUE(d.ok()) << d.message();
    const Ipv4Address c2_on_b = *Ipv4Address::parse("10.82.0.20");
    const Ipv4Address c2_on_c = *Ipv4Address::parse("10.83.0.20");
    EXPECT_TRUE(ping(c1, c2_on_c, 2)) << d->log();             // the shared network
    EXPECT_TRUE(ping(c1, *Ipv4Address::parse("10.81.0.30"), 2)) << d->log();  // inside a
    EXPECT_TRUE(ping(c3, out.ext_ip, 2)) << d->log();          // the outside
    EXPECT_FALSE(ping(c1, c2_on_b, 1, 2));                     // b through a's gateway
    EXPECT_FALSE(ping(c3, c2_on_b, 1, 2));
    EXPECT_FALSE(ping(c3, c2_on_c, 1, 2));                     // c3 shares no network with c2
    EXPECT_TRUE(ping(c3, *Ipv4Address::parse("10.82.0.1"), 2)) << d->log();  // b's gateway: the host answers
    EXPECT_GE(d->drops("isolated"), 3u);
    auto tcp = tcp_transfer(direct_flow(c2, c2_on_c, 7070, c1), 64 * 1024);
    EXPECT_TRUE(tcp.ok()) << tcp.message();
}

}  // namespace
}  // namespace dpdock::test
