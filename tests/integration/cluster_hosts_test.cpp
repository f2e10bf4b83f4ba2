// Global overlay networks on etcd: one etcd (its own data dir, in a namespace
// of its own) and three dpdockd "hosts" whose uplinks meet on a namespace
// underlay, as in vxlan_two_hosts_test. A network created on host A appears
// on B and C with the same VNI; containers on different hosts ping and move
// TCP data (bytes compared) with no peer or FDB typed anywhere, each remote
// MAC is a static FDB entry before the first packet; addresses are unique
// across hosts; two hosts creating the same name at once: one wins; host C
// killed with SIGKILL is gone from A's hosts, peers and FDB within lease TTL + 1 s.
// etcd killed: traffic flows, global changes are refused; etcd back: a change
// made on B reaches A, and nothing was flushed.
// Runs as the ctest entry `system_cluster` (LABELS system), not in `integration`.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kLeaseTtlS = 2;
const char* const kEtcdUrl = "http://192.168.82.1:2379";

std::string host_yaml(const std::string& ifname, const std::string& address) {
    return "dataplane:\n  idle-sleep-us: 20\nuplink:\n  devargs: net_af_packet_" + ifname + ",iface=" + ifname +
           "\n  address: " + address + "/24\n  gateway: 192.168.81.1\n";
}

Result<DpdockdInstance> start_host(const std::string& ifname, const std::string& address, const std::string& name) {
    if (name == "hC") {  // the YAML's cluster section instead of the command line
        return DpdockdInstance::start(host_yaml(ifname, address) + "cluster: {etcd: [\"" + kEtcdUrl +
                                      "\"], host-name: hC, lease-ttl: " + std::to_string(kLeaseTtlS) + "}\n");
    }
    return DpdockdInstance::start(host_yaml(ifname, address),
                                  {"--etcd", kEtcdUrl, "--host-name", name, "--cluster-lease-ttl",
                                   std::to_string(kLeaseTtlS)});
}

std::set<std::string> host_names(const DpdockdInstance& d) {
    std::set<std::string> out;
    auto hosts = d.call("cluster.hosts");
    if (!hosts.ok()) return out;
    for (const auto& h : *hosts) out.insert(h["name"].get<std::string>());
    return out;
}

std::optional<json> network(const DpdockdInstance& d, const std::string& name) {
    auto ls = d.call("network.ls");
    if (!ls.ok()) return std::nullopt;
    for (const auto& n : *ls) {
        if (n["name"] == name) return n;
    }
    return std::nullopt;
}

bool fdb_has(const DpdockdInstance& d, const std::string& net, const std::string& mac, const std::string& vtep) {
    auto fdb = d.call("overlay.fdb", {{"network", net}});
    if (!fdb.ok()) return false;
    for (const auto& e : (*fdb)["entries"]) {
        if (e["mac"] == mac && e["vtep"] == vtep && e.value("static", false)) return true;
    }
    return false;
}

bool has_peer(const DpdockdInstance& d, const std::string& net, const std::string& vtep) {
    auto peers = d.call("overlay.peer.ls", {{"network", net}});
    if (!peers.ok()) return false;
    for (const auto& p : (*peers)["peers"]) {
        if (p == vtep) return true;
    }
    return false;
}

// The underlay namespace (bridge br0, 192.168.81.1/24) and its veth to the
// test's namespace (192.168.82.0/24), where one etcd listens at kEtcdUrl.
struct Underlay {
    Netns ns;
    std::optional<VethPair> store_link;
};

void make_underlay(Underlay& u, const std::string& store_tag) {
    ASSERT_EQ(u.ns.exec("ip link add br0 type bridge && ip addr add 192.168.81.1/24 dev br0 && "
                        "ip link set br0 up && ip link set lo up"),
              0);
    auto store_link = VethPair::create(nullptr, &u.ns, store_tag);
    ASSERT_TRUE(store_link.ok()) << store_link.message();
    ASSERT_EQ(shell("ip addr add 192.168.82.2/24 dev " + store_link->a_name() + " && ip link set " +
                    store_link->a_name() + " up"),
              0);
    ASSERT_EQ(u.ns.exec("ip addr add 192.168.82.1/24 dev " + store_link->b_name() + " && ip link set " +
                        store_link->b_name() + " up"),
              0);
    u.store_link.emplace(std::move(*store_link));
}

Result<ChildProcess> spawn_etcd(const Netns& underlay, const std::string& dir) {
    return ChildProcess::spawn({"ip", "netns", "exec", underlay.name(), "etcd", "--name", "s1", "--data-dir",
                                dir + "/data", "--listen-client-urls", kEtcdUrl, "--advertise-client-urls", kEtcdUrl,
                                "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls",
                                "http://127.0.0.1:2380", "--initial-cluster", "s1=http://127.0.0.1:2380"},
                               dir + "/etcd.log");
}

bool etcd_answers() {
    return shell("curl -s -m 1 -X POST " + std::string(kEtcdUrl) + "/v3/kv/range -d '{\"key\":\"AA==\"}' >/dev/null") ==
           0;
}

// A veth per host: the a side (the host's uplink) in the test's namespace, the b side on br0.
void add_uplinks(const Netns& underlay, std::initializer_list<const char*> tags, std::vector<VethPair>& links) {
    for (const char* tag : tags) {
        auto link = VethPair::create(nullptr, &underlay, tag);
        ASSERT_TRUE(link.ok()) << link.message();
        ASSERT_EQ(shell("ip link set " + link->a_name() + " up"), 0);
        ASSERT_EQ(underlay.exec("ip link set " + link->b_name() + " master br0 && ip link set " + link->b_name() +
                                " up"),
                  0);
        links.push_back(std::move(*link));
    }
}

// The attached container's address on its first network, without the prefix.
std::string attached_ip(const json& container) {
    const std::string cidr = container["networks"][0]["ip"];
    return cidr.substr(0, cidr.find('/'));
}

TEST(ClusterHostsTest, GlobalNetworksSpanHostsThroughEtcd) {
    // etcd lives in the underlay namespace; the daemons reach it over a veth of its own.
    Underlay u{make_netns("clu"), {}};
    make_underlay(u, "ve");
    const Netns& underlay = u.ns;
    const std::string etcd_dir = shell_output("mktemp -d /tmp/dpdock-etcd.XXXXXX | tr -d '\\n'");
    ASSERT_FALSE(etcd_dir.empty());
    auto start_etcd = [&] { return spawn_etcd(underlay, etcd_dir); };
    auto etcd = start_etcd();
    ASSERT_TRUE(etcd.ok()) << etcd.message();
    ASSERT_TRUE(wait_until(etcd_answers, 10s));

    std::vector<VethPair> links;
    add_uplinks(underlay, {"ca", "cb", "cc"}, links);
    auto host_a = start_host(links[0].a_name(), "192.168.81.2", "hA");
    ASSERT_TRUE(host_a.ok()) << host_a.message();
    auto host_b = start_host(links[1].a_name(), "192.168.81.3", "hB");
    ASSERT_TRUE(host_b.ok()) << host_b.message();
    auto host_c = start_host(links[2].a_name(), "192.168.81.4", "hC");
    ASSERT_TRUE(host_c.ok()) << host_c.message();
    const std::set<std::string> all{"hA", "hB", "hC"};
    ASSERT_TRUE(wait_until([&] { return host_names(*host_a) == all && host_names(*host_c) == all; }, 10s))
        << host_a->log();

    // Created on A, it appears on B and C, same VNI, scope global.
    auto created = host_a->call("network.create", {{"name", "prod"}, {"driver", "overlay"}, {"scope", "global"},
                                                   {"subnet", "10.60.0.0/24"}});
    ASSERT_TRUE(created.ok()) << created.message() << host_a->log();
    EXPECT_EQ((*created)["scope"], "global");
    const json vni = (*created)["vni"];
    for (DpdockdInstance* h : {&*host_b, &*host_c}) {
        ASSERT_TRUE(wait_until([&] { return network(*h, "prod").has_value(); }, 2s)) << h->log();
        EXPECT_EQ((*network(*h, "prod"))["vni"], vni);
        EXPECT_EQ((*network(*h, "prod"))["scope"], "global");
    }
    // A local network of the same name elsewhere is refused, a global duplicate too.
    auto dup = host_b->call("network.create", {{"name", "prod"}, {"driver", "overlay"}, {"scope", "global"}});
    EXPECT_FALSE(dup.ok());

    // One container per host; addresses come from the store, unique across hosts.
    Netns a1 = make_netns("ka"), b1 = make_netns("kb"), c1 = make_netns("kc");
    std::vector<std::string> ips;
    for (auto [host, ns, name] : {std::tuple{&*host_a, &a1, "a1"}, std::tuple{&*host_b, &b1, "b1"},
                                  std::tuple{&*host_c, &c1, "c1"}}) {
        auto attached = host->call("container.attach", {{"name", name}, {"netns", ns->path()}, {"network", "prod"}});
        ASSERT_TRUE(attached.ok()) << attached.message() << host->log();
        ips.push_back(attached_ip(*attached));
    }
    EXPECT_EQ(std::set<std::string>(ips.begin(), ips.end()).size(), 3u) << ips[0] << " " << ips[1] << " " << ips[2];
    const std::string mac_b = docker_mac_for(*Ipv4Address::parse(ips[1])).to_string();
    const std::string mac_c = docker_mac_for(*Ipv4Address::parse(ips[2])).to_string();
    // Remote MACs are static FDB entries from the store, before any packet.
    ASSERT_TRUE(wait_until([&] { return fdb_has(*host_a, "prod", mac_b, "192.168.81.3") &&
                                        fdb_has(*host_a, "prod", mac_c, "192.168.81.4"); },
                           2s))
        << host_a->cli_expect("overlay fdb prod");
    EXPECT_TRUE(has_peer(*host_a, "prod", "192.168.81.3"));

    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(ips[1]), 3)) << host_a->log() << host_b->log();
    EXPECT_TRUE(ping(c1, *Ipv4Address::parse(ips[0]), 3)) << host_a->log() << host_c->log();
    auto tcp = tcp_transfer(direct_flow(b1, *Ipv4Address::parse(ips[1]), 8080, a1), 256 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << host_a->log() << host_b->log();
    EXPECT_EQ(tcp->client_ip, *Ipv4Address::parse(ips[0]));

    // Two hosts create the same name at once: exactly one wins, the other is told why.
    Result<json> race_a = Status::error("not run"), race_b = Status::error("not run");
    std::thread ta([&] { race_a = host_a->call("network.create", {{"name", "race"}, {"driver", "overlay"},
                                                                  {"scope", "global"}, {"subnet", "10.61.0.0/24"}}); });
    std::thread tb([&] { race_b = host_b->call("network.create", {{"name", "race"}, {"driver", "overlay"},
                                                                  {"scope", "global"}, {"subnet", "10.62.0.0/24"}}); });
    ta.join();
    tb.join();
    EXPECT_EQ(race_a.ok() + race_b.ok(), 1) << race_a.message() << " / " << race_b.message();
    const std::string loser = race_a.ok() ? race_b.message() : race_a.message();
    EXPECT_NE(loser.find("already exists"), std::string::npos) << loser;

    // etcd lost: forwarding goes on with the last known state, global changes
    // are refused with a clear error; etcd back: the hosts re-sync from their
    // revision and a change made then on B reaches A.
    auto connected = [](const DpdockdInstance& d) {
        auto st = d.call("cluster.status");
        return st.ok() && (*st)["connected"].get<bool>();
    };
    etcd = Status::error("stopped");  // SIGKILL and reap
    ASSERT_TRUE(wait_until([&] { return !connected(*host_a) && !connected(*host_b); }, 6s)) << host_a->log();
    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(ips[1]), 2)) << host_a->log();
    auto refused = host_a->call("network.create", {{"name", "offline"}, {"driver", "overlay"}, {"scope", "global"}});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("unreachable"), std::string::npos) << refused.message();
    Netns a2 = make_netns("kd");
    EXPECT_FALSE(host_a->call("container.attach", {{"name", "a2"}, {"netns", a2.path()}, {"network", "prod"}}).ok());
    etcd = start_etcd();
    ASSERT_TRUE(etcd.ok()) << etcd.message();
    ASSERT_TRUE(wait_until([&] { return connected(*host_a) && connected(*host_b); }, 8s)) << host_a->log();
    ASSERT_TRUE(host_b->call("network.create", {{"name", "later"}, {"driver", "overlay"}, {"scope", "global"},
                                                {"subnet", "10.63.0.0/24"}})
                    .ok());
    EXPECT_TRUE(wait_until([&] { return network(*host_a, "later").has_value(); }, 2s)) << host_a->log();
    EXPECT_TRUE(fdb_has(*host_a, "prod", mac_b, "192.168.81.3"));  // nothing flushed
    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(ips[1]), 2));

    // Host C killed: its lease expires, A forgets the host, its peer and its MAC.
    ASSERT_TRUE(host_c->process().send_signal(SIGKILL).ok());
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return host_names(*host_a) == std::set<std::string>{"hA", "hB"} &&
                                        !has_peer(*host_a, "prod", "192.168.81.4") &&
                                        !fdb_has(*host_a, "prod", mac_c, "192.168.81.4"); },
                           std::chrono::seconds(kLeaseTtlS + 2)))
        << host_a->cli_expect("cluster hosts") << host_a->cli_expect("overlay fdb prod");
    const auto gone_after = std::chrono::steady_clock::now() - killed;
    EXPECT_LE(gone_after, std::chrono::seconds(kLeaseTtlS + 1));
    std::printf("host C forgotten %lld ms after SIGKILL (lease TTL %d s)\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(gone_after).count()),
                kLeaseTtlS);
    // A and B still talk.
    EXPECT_TRUE(ping(b1, *Ipv4Address::parse(ips[0]), 2));

    auto status = host_a->call("cluster.status");
    ASSERT_TRUE(status.ok());
    EXPECT_TRUE((*status)["connected"].get<bool>());
    EXPECT_GT((*status)["counters"]["store_ops"].get<std::uint64_t>(), 0u);
    EXPECT_EQ((*status)["counters"]["malformed_records"].get<std::uint64_t>(), 0u);
    shell("rm -rf " + shell_quote(etcd_dir));
}

}  // namespace
}  // namespace dpdock::test

namespace dpdock::test {
namespace {

// A 3-member etcd cluster: the member the hosts talk to first is killed; the
// hosts move to the others (their lease lives on in the quorum) and a global
// network created afterwards on B still reaches A, and its containers talk.
TEST(ClusterHostsTest, ThreeMemberEtcdSurvivesAMemberLoss) {
    Underlay u{make_netns("clm"), {}};
    make_underlay(u, "vm");
    const Netns& underlay = u.ns;
    const std::string dir = shell_output("mktemp -d /tmp/dpdock-etcd.XXXXXX | tr -d '\\n'");
    ASSERT_FALSE(dir.empty());
    const std::string initial = "m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2480,m3=http://127.0.0.1:2580";
    std::vector<std::string> urls;
    std::vector<ChildProcess> members;
    for (int i = 1; i <= 3; ++i) {
        const std::string client = "http://192.168.82.1:2" + std::to_string(i + 2) + "79";
        const std::string peer = "http://127.0.0.1:2" + std::to_string(i + 2) + "80";
        urls.push_back(client);
        auto m = ChildProcess::spawn({"ip", "netns", "exec", underlay.name(), "etcd", "--name", "m" + std::to_string(i),
                                      "--data-dir", dir + "/m" + std::to_string(i), "--listen-client-urls", client,
                                      "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                      "--initial-advertise-peer-urls", peer, "--initial-cluster", initial,
                                      "--initial-cluster-state", "new"},
                                     dir + "/m" + std::to_string(i) + ".log");
        ASSERT_TRUE(m.ok()) << m.message();
        members.push_back(std::move(*m));
    }
    ASSERT_TRUE(wait_until([&] { return shell("curl -s -m 1 -X POST " + urls[2] +
                                              "/v3/kv/put -d '{\"key\":\"AA==\",\"value\":\"AA==\"}' | grep -q header") == 0; },
                           15s));

    std::vector<VethPair> links;
    add_uplinks(underlay, {"ma", "mb"}, links);
    auto start = [&](const VethPair& link, const std::string& address, const std::string& name) {
        std::vector<std::string> args{"--host-name", name, "--cluster-lease-ttl", "3"};
        for (const auto& u : urls) args.insert(args.end(), {"--etcd", u});
        return DpdockdInstance::start(
            "dataplane:\n  idle-sleep-us: 20\nuplink:\n  devargs: net_af_packet_" + link.a_name() + ",iface=" +
                link.a_name() + "\n  address: " + address + "/24\n  gateway: 192.168.81.1\n",
            args);
    };
    auto host_a = start(links[0], "192.168.81.2", "hA");
    ASSERT_TRUE(host_a.ok()) << host_a.message();
    auto host_b = start(links[1], "192.168.81.3", "hB");
    ASSERT_TRUE(host_b.ok()) << host_b.message();
    auto hosts_seen = [](const DpdockdInstance& d) {
        auto h = d.call("cluster.hosts");
        return h.ok() ? h->size() : 0u;
    };
    ASSERT_TRUE(wait_until([&] { return hosts_seen(*host_a) == 2 && hosts_seen(*host_b) == 2; }, 10s));

    members.erase(members.begin());  // m1, the member every host tries first: SIGKILLed and reaped
    auto created = host_b->call("network.create", {{"name", "after"}, {"driver", "overlay"}, {"scope", "global"},
                                                   {"subnet", "10.64.0.0/24"}});
    ASSERT_TRUE(created.ok()) << created.message() << host_b->log();
    Netns a1 = make_netns("ma"), b1 = make_netns("mb");
    ASSERT_TRUE(wait_until([&] {
        auto ls = host_a->call("network.ls");
        return ls.ok() && std::any_of(ls->begin(), ls->end(), [](const json& n) { return n["name"] == "after"; });
    }, 5s)) << host_a->log();
    auto ea = host_a->call("container.attach", {{"name", "a1"}, {"netns", a1.path()}, {"network", "after"}});
    ASSERT_TRUE(ea.ok()) << ea.message();
    auto eb = host_b->call("container.attach", {{"name", "b1"}, {"netns", b1.path()}, {"network", "after"}});
    ASSERT_TRUE(eb.ok()) << eb.message();
    EXPECT_NE(attached_ip(*ea), attached_ip(*eb));
    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(attached_ip(*eb)), 3, 8)) << host_a->log() << host_b->log();
    EXPECT_EQ(hosts_seen(*host_a), 2u);  // the leases lived on in the quorum
    members.clear();
    shell("rm -rf " + shell_quote(dir));
}

// The owner (lease, host) of an endpoint's key in etcd, read with etcdctl.
std::pair<std::int64_t, std::string> endpoint_owner(const std::string& network, const std::string& ip) {
    const std::string out = shell_output("ETCDCTL_API=3 etcdctl --endpoints " + std::string(kEtcdUrl) +
                                         " get /dpdock/endpoints/" + network + "/" + ip + " -w json");
    const json reply = json::parse(out, nullptr, false);
    if (reply.is_discarded() || !reply.contains("kvs") || reply["kvs"].empty()) return {0, ""};
    const json& kv = reply["kvs"][0];
    std::string value = shell_output("echo " + kv["value"].get<std::string>() + " | base64 -d");
    const json record = json::parse(value, nullptr, false);
    return {kv.value("lease", std::int64_t{0}), record.is_discarded() ? "" : record.value("host", "")};
}

// A host stopped (SIGTERM: its lease revoked, its endpoints gone from the
// store) and started again from what `dpdock config save` wrote: its
// container on the global network is back with the same address, claimed
// under the new lease, and reached from the other host again. Killed
// (SIGKILL: its old record outlives it) and back within the lease TTL: the
// same. Stopped once more, its address taken meanwhile by the other host:
// not restored, said so in the log, and the address keeps its one owner.
TEST(ClusterHostsTest, ARestartedHostReclaimsItsEndpoints) {
    Underlay u{make_netns("clr"), {}};
    make_underlay(u, "vr");
    const std::string etcd_dir = shell_output("mktemp -d /tmp/dpdock-etcd.XXXXXX | tr -d '\\n'");
    ASSERT_FALSE(etcd_dir.empty());
    auto etcd = spawn_etcd(u.ns, etcd_dir);
    ASSERT_TRUE(etcd.ok()) << etcd.message();
    ASSERT_TRUE(wait_until(etcd_answers, 10s));
    std::vector<VethPair> links;
    add_uplinks(u.ns, {"ra", "rb"}, links);
    auto host_a = start_host(links[0].a_name(), "192.168.81.2", "hA");
    ASSERT_TRUE(host_a.ok()) << host_a.message();
    auto host_b = start_host(links[1].a_name(), "192.168.81.3", "hB");
    ASSERT_TRUE(host_b.ok()) << host_b.message();
    ASSERT_TRUE(host_a->call("network.create", {{"name", "prod"}, {"driver", "overlay"}, {"scope", "global"},
                                                {"subnet", "10.60.0.0/24"}})
                    .ok());
    ASSERT_TRUE(wait_until([&] { return network(*host_b, "prod").has_value(); }, 2s)) << host_b->log();
    Netns a1 = make_netns("ra"), b1 = make_netns("rb"), a2 = make_netns("rc");
    auto ea = host_a->call("container.attach", {{"name", "a1"}, {"netns", a1.path()}, {"network", "prod"}});
    ASSERT_TRUE(ea.ok()) << ea.message();
    auto eb = host_b->call("container.attach", {{"name", "b1"}, {"netns", b1.path()}, {"network", "prod"}});
    ASSERT_TRUE(eb.ok()) << eb.message();
    const std::string ip_a = attached_ip(*ea), ip_b = attached_ip(*eb);
    ASSERT_TRUE(ping(a1, *Ipv4Address::parse(ip_b), 3)) << host_b->log();
    host_b->cli_expect("config save");
    const std::string saved = shell_output("cat " + shell_quote(host_b->config_path()));
    EXPECT_NE(saved.find("scope: global"), std::string::npos) << saved;

    ASSERT_TRUE(host_b->stop(SIGTERM).ok());
    EXPECT_EQ(endpoint_owner("prod", ip_b).second, "") << "SIGTERM revokes the lease";
    ASSERT_TRUE(host_b->restart().ok()) << host_b->log();
    auto b1_ip = [&]() -> std::string {
        auto ps = host_b->call("container.ps");
        if (!ps.ok()) return "";
        for (const auto& c : *ps) {
            if (c["name"] == "b1" && !c["networks"].empty()) return attached_ip(c);
        }
        return "";
    };
    ASSERT_TRUE(wait_until([&] { return !b1_ip().empty(); }, 5s)) << host_b->log();
    EXPECT_EQ(b1_ip(), ip_b);
    auto status = host_b->call("cluster.status");
    ASSERT_TRUE(status.ok()) << status.message();
    const auto [lease, owner] = endpoint_owner("prod", ip_b);
    EXPECT_EQ(owner, "hB");
    EXPECT_EQ(lease, (*status)["lease"].get<std::int64_t>());
    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(ip_b), 3, 8)) << host_a->log() << host_b->log();
    auto tcp = tcp_transfer(direct_flow(b1, *Ipv4Address::parse(ip_b), 8080, a1), 128 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << host_b->log();
    EXPECT_EQ(tcp->client_ip, *Ipv4Address::parse(ip_a));

    // SIGKILL: the old lease still holds the record when B is back (TTL 2 s);
    // B drops its own old records first, then claims the address again.
    const std::int64_t old_lease = lease;
    ASSERT_TRUE(host_b->process().send_signal(SIGKILL).ok());
    ASSERT_TRUE(host_b->process().wait_for_exit(5s).ok());
    ASSERT_TRUE(host_b->restart().ok()) << host_b->log();
    ASSERT_TRUE(wait_until([&] { return !b1_ip().empty(); }, 5s)) << host_b->log();
    EXPECT_EQ(b1_ip(), ip_b);
    status = host_b->call("cluster.status");
    ASSERT_TRUE(status.ok()) << status.message();
    const auto after_kill = endpoint_owner("prod", ip_b);
    EXPECT_EQ(after_kill.second, "hB");
    EXPECT_EQ(after_kill.first, (*status)["lease"].get<std::int64_t>());
    EXPECT_NE(after_kill.first, old_lease);
    EXPECT_TRUE(ping(a1, *Ipv4Address::parse(ip_b), 3, 8)) << host_b->log();

    // Stopped again; host A takes b1's address meanwhile: one owner, and B says why.
    host_b->cli_expect("config save");
    ASSERT_TRUE(host_b->stop(SIGTERM).ok());
    ASSERT_TRUE(host_a->call("container.attach",
                             {{"name", "a2"}, {"netns", a2.path()}, {"network", "prod"}, {"ip", ip_b}})
                    .ok());
    ASSERT_TRUE(host_b->restart().ok()) << host_b->log();
    ASSERT_TRUE(wait_until([&] { return host_b->log().find("not restored") != std::string::npos; }, 5s))
        << host_b->log();
    EXPECT_NE(host_b->log().find("used by container a2 on host hA"), std::string::npos) << host_b->log();
    EXPECT_EQ(b1_ip(), "");
    EXPECT_EQ(endpoint_owner("prod", ip_b).second, "hA");
    shell("rm -rf " + shell_quote(etcd_dir));
}

}  // namespace
}  // namespace dpdock::test
