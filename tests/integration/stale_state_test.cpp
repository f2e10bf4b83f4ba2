// State that must not outlive what it was for: a published port moved to
// another container takes its flows along (a UDP client would otherwise go
// on reaching the old container, which is why Docker flushes UDP conntrack),
// and a network removed leaves neither flows nor static MACs to the next
// network that gets its id.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");

// The flows of nat.conntrack whose `side` tuple has `key` = `value`.
int flows_with(const DpdockdInstance& d, const char* side, const char* key, const std::string& value) {
    auto ct = d.call("nat.conntrack");
    EXPECT_TRUE(ct.ok()) << ct.message();
    int n = 0;
    for (const auto& f : (*ct)["flows"]) n += f[side][key] == value ? 1 : 0;
    return n;
}

TEST(StaleStateTest, APublishedPortMovedToAnotherContainerTakesItsFlowsAlong) {
    auto outside = make_outside("192.168.81");
    ASSERT_TRUE(outside.ok()) << outside.message();
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + outside->uplink_yaml() + "containers:\n" +
                                    container_yaml("c1", c1.path(), "[bridge]") + "    publish: ['5353:53/udp']\n" +
                                    container_yaml("c2", c2.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();

    FlowSpec to_c1 = direct_flow(c1, kC1, 53, outside->ns);
    to_c1.connect_ip = outside->host_ip;
    to_c1.connect_port = 5353;
    auto first = udp_exchange(to_c1, 10, 100);
    ASSERT_TRUE(first.ok()) << first.message() << "\n" << d->log();
    ASSERT_EQ(flows_with(*d, "translated", "dst", kC1.to_string()), 1);

    // The port moves to c2 (c1 goes, c2 is attached again with it).
    ASSERT_TRUE(d->call("container.detach", {{"name", "c1"}}).ok());
    EXPECT_EQ(flows_with(*d, "translated", "dst", kC1.to_string()), 0) << "c1's flow outlived its rule";
    ASSERT_TRUE(d->call("container.detach", {{"name", "c2"}}).ok());
    auto attached = d->call("container.attach", {{"name", "c2"}, {"netns", c2.path()}, {"publish", {"5353:53/udp"}}});
    ASSERT_TRUE(attached.ok()) << attached.message();
    const Ipv4Address c2_ip = Ipv4Cidr::parse((*attached)["networks"][0]["ip"].get<std::string>())->address();
    FlowSpec to_c2 = direct_flow(c2, c2_ip, 53, outside->ns);
    to_c2.connect_ip = outside->host_ip;
    to_c2.connect_port = 5353;
    auto second = udp_exchange(to_c2, 10, 100);
    ASSERT_TRUE(second.ok()) << second.message() << "\n" << d->log();
    // (c2 may have been given c1's old address: its flow is the only one.)
    EXPECT_EQ(flows_with(*d, "translated", "dst", c2_ip.to_string()), 1);
}

TEST(StaleStateTest, ANetworkIdReusedInheritsNoFlowsAndNoStaticMacs) {
    auto outside = make_outside("192.168.82");
    ASSERT_TRUE(outside.ok()) << outside.message();
    Netns c1 = make_netns("c1");
    const std::string peer = "192.168.82.200";
    const std::string remote_mac = "02:00:00:00:77:01";
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + outside->uplink_yaml() +
                                    "networks:\n  - name: ov\n    driver: overlay\n    subnet: 10.77.0.0/24\n"
                                    "    vni: 300\n    peers: [" + peer + "]\n    fdb: [{mac: '" + remote_mac +
                                    "', vtep: " + peer + "}]\ncontainers:\n" + container_yaml("c1", c1.path(), "[ov]"));
    ASSERT_TRUE(d.ok()) << d.message();
    // A masqueraded flow from c1 on ov.
    auto udp = udp_exchange(direct_flow(outside->ns, outside->ext_ip, 5353, c1), 10, 100);
    ASSERT_TRUE(udp.ok()) << udp.message() << "\n" << d->log();
    ASSERT_EQ(flows_with(*d, "original", "src", "10.77.0.2"), 1);

    auto ls = d->call("network.ls");
    ASSERT_TRUE(ls.ok()) << ls.message();
    nlohmann::json ov_id;
    for (const auto& n : *ls) {
        if (n["name"] == "ov") ov_id = n["id"];
    }
    ASSERT_TRUE(d->call("container.detach", {{"name", "c1"}}).ok());
    ASSERT_TRUE(d->call("network.rm", {{"names", {"ov"}}}).ok());
    auto created = d->call("network.create", {{"name", "fresh"}, {"driver", "overlay"}, {"subnet", "10.88.0.0/24"}});
    ASSERT_TRUE(created.ok()) << created.message();
    ASSERT_EQ((*created)["id"], ov_id) << "the test needs the id to be reused";

    EXPECT_EQ(flows_with(*d, "original", "src", "10.77.0.2"), 0) << "ov's flow outlived it";
    auto fdb = d->call("overlay.fdb", {{"network", "fresh"}});
    ASSERT_TRUE(fdb.ok()) << fdb.message();
    EXPECT_TRUE((*fdb)["entries"].empty()) << "the new network inherited " << fdb->dump();
}

}  // namespace
}  // namespace dpdock::test
