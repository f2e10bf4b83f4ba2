// The exception path end to end (issue 15): dpdockd runs inside a `host`
// namespace the test creates, so dpdock0, its addresses and routes are made
// there and never in the test's own netns. A TCP server of that namespace on
// the gateway address and on the uplink address is reached from a container
// and from outside (bytes echoed and compared), a closed port is refused at
// once (RST from the kernel), and the host reaches the container by its IP
// and its published ports (the host proxy, also on 127.0.0.1).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kGatewayIp = *Ipv4Address::parse("172.17.0.1");
const Ipv4Address kC1Ip = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kExtIp = *Ipv4Address::parse("192.168.93.1");
const Ipv4Address kHostIp = *Ipv4Address::parse("192.168.93.2");

// connect() from `from` to ip:port; the errno it failed with (0: connected),
// and how long it took. ETIMEDOUT after `wait_s` seconds.
std::pair<int, std::chrono::milliseconds> try_connect(const Netns& from, Ipv4Address ip, std::uint16_t port,
                                                      int wait_s = 5) {
    int error = -1;
    const auto start = std::chrono::steady_clock::now();
    const Status st = run_in(from, [&] {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return;
        timeval tv{wait_s, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = ip.be().raw();
        error = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 ? 0 : errno;
        if (error == EINPROGRESS) error = ETIMEDOUT;
        ::close(fd);
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return {error, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
}

struct Topology {
    Netns host = make_netns("exh");  // dpdockd's netns: the "host"
    Netns ext = make_netns("ext");   // the outside, behind the uplink
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");     // attached by a test at run time
    std::optional<VethPair> link;    // a: the uplink (in host), b: ext at kExtIp
};

// host + ext + c1, the uplink's veth between host and ext.
void make_topology(Topology& t) {
    auto link = VethPair::create(&t.host, &t.ext, "xu");
    ASSERT_TRUE(link.ok()) << link.message();
    ASSERT_TRUE(link->up_with_address(VethPair::Side::B, Ipv4Cidr(kExtIp, 24)).ok());
    ASSERT_EQ(t.ext.exec("ethtool -K " + link->b_name() + " tx off >/dev/null"), 0);
    // The uplink is an af_packet port on a kernel veth: the host's own stack
    // must not take its packets too (dpdock0 holds kHostIp in the same netns:
    // a SYN to a published port would get the host proxy's SYN-ACK beside the
    // container's). Strict reverse-path filtering drops them there, as if the
    // NIC were bound to DPDK.
    ASSERT_EQ(t.host.exec("ip link set " + link->a_name() + " up && ip link set lo up && sysctl -qw net.ipv4.conf." +
                          link->a_name() + ".rp_filter=1"),
              0);
    t.link.emplace(std::move(*link));
}

// c1_fields: more YAML of c1 ("    publish: [...]\n").
std::string yaml(const Topology& t, bool exception, const std::string& c1_fields = "") {
    return "dataplane:\n  idle-sleep-us: 20\nuplink:\n  devargs: net_af_packet_" + t.link->a_name() +
           ",iface=" + t.link->a_name() + "\n  address: " + kHostIp.to_string() + "/24\n  gateway: " +
           kExtIp.to_string() + "\n" + (exception ? "exception:\n  enabled: true\n" : "") + "containers:\n" +
           container_yaml("c1", t.c1.path(), "[bridge]") + c1_fields;
}

// A TCP transfer from `client` to ip:port, served by c1 at its own address and `c1_port`.
Status transfer_to_c1(const Topology& t, const Netns& client, Ipv4Address ip, std::uint16_t port,
                      std::uint16_t c1_port) {
    FlowSpec f = direct_flow(t.c1, kC1Ip, c1_port, client);
    f.connect_ip = ip;
    f.connect_port = port;
    return tcp_transfer(f, 200000).status();
}

// Whether something listens on TCP `port` in `ns`.
bool listening(const Netns& ns, std::uint16_t port) {
    return !ns.exec_output("ss -Hltn 'sport = :" + std::to_string(port) + "'").empty();
}

TEST(ExceptionTest, HostServicesAreReachedFromContainersAndOutsideAndClosedPortsRefuse) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true));
    ASSERT_TRUE(d.ok()) << d.message();
    // dpdock0 carries the uplink address and the gateway, with their routes, in the host netns only.
    const std::string addresses = t.host.exec_output("ip -4 -o addr show dev dpdock0");
    EXPECT_NE(addresses.find(kHostIp.to_string() + "/24"), std::string::npos) << addresses;
    EXPECT_NE(addresses.find(kGatewayIp.to_string() + "/16"), std::string::npos) << addresses;
    EXPECT_NE(t.host.exec_output("ip route show dev dpdock0").find("172.17.0.0/16"), std::string::npos);
    EXPECT_NE(shell("ip link show dpdock0 >/dev/null 2>&1"), 0) << "dpdock0 leaked into the test's netns";

    // A service of the host on the gateway address, from the container; on the uplink address, from outside.
    auto st = tcp_transfer(t.host, kGatewayIp, 18081, t.c1, 300000);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    st = tcp_transfer(t.host, kHostIp, 18082, t.ext, 300000);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    // Ping stays the dataplane's; the host pings and connects to the container.
    EXPECT_TRUE(ping(t.c1, kGatewayIp, 2));
    EXPECT_TRUE(ping(t.host, kC1Ip, 2)) << d->log();
    EXPECT_TRUE(ping(t.host, kExtIp, 2)) << d->log();
    st = tcp_transfer(t.c1, kC1Ip, 18083, t.host, 300000);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();

    // Closed ports: the kernel's RST, at once (not a timeout).
    for (const auto& [from, to] : {std::pair{&t.c1, kGatewayIp}, std::pair{&t.ext, kHostIp}}) {
        const auto [error, took] = try_connect(*from, to, 18099);
        EXPECT_EQ(error, ECONNREFUSED) << to.to_string() << ": " << std::strerror(error);
        EXPECT_LT(took, std::chrono::seconds(2)) << to.to_string();
    }
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_GT((*stats)["exception"]["punted"].get<std::uint64_t>(), 0u) << stats->dump();
    EXPECT_GT((*stats)["exception"]["from_host"].get<std::uint64_t>(), 0u) << stats->dump();
    EXPECT_EQ(d->drops("punt_full"), 0u);
    EXPECT_EQ(d->drops("not_served"), 0u);
}

// With two workers, the packets a worker punts for the kernel wait on its punt
// ring for the worker that polls dpdock0; asleep in a long idle wait, that
// one is woken by the punt (dataplane/doorbells.hpp), not by the end of its
// sleep (here a fixed 300 ms). c1 and c2 are polled by different workers, so
// one of them punts across. A closed port's RST is the kernel's answer to a
// punted SYN: every connect is refused well under the sleep.
TEST(ExceptionTest, APuntWakesTheSleepingWorkerOfTheHostPort) {
    Topology t;
    make_topology(t);
    std::string config = yaml(t, true) + container_yaml("c2", t.c2.path(), "[bridge]");
    const std::string idle = "  idle-sleep-us: 20\n";
    config.replace(config.find(idle), idle.size(),
                   "  workers: 2\n  idle-sleep-us: 300000\n  idle-sleep-max-us: 300000\n");
    const std::string iface = "iface=" + t.link->a_name();
    config.insert(config.find(iface) + iface.size(), ",qpairs=2");  // a tx queue per worker
    auto d = DpdockdInstance::start_in(t.host, config);
    ASSERT_TRUE(d.ok()) << d.message();
    for (const Netns* c : {&t.c1, &t.c2}) {
        try_connect(*c, kGatewayIp, 18099);  // ARP and the neighbour entries settle first
        for (int i = 0; i < 4; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(350));  // both workers fall asleep
            const auto [error, took] = try_connect(*c, kGatewayIp, 18099);
            EXPECT_EQ(error, ECONNREFUSED) << std::strerror(error);
            EXPECT_LT(took, std::chrono::milliseconds(100)) << c->name() << " #" << i;
        }
    }
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_GE((*stats)["exception"]["punted"].get<std::uint64_t>(), 8u) << stats->dump();
}

// The host connects to an on-link address nobody answers ARP for: the
// dataplane gives up after its retries (3 requests 1 s apart, as Linux's
// ARP) and tells the kernel (ICMP host unreachable), so connect() fails with
// EHOSTUNREACH after about 3 s, as it would on a kernel-owned link (before:
// a silent drop and ETIMEDOUT at the socket's 8 s). The bound leaves 3 s for
// a loaded machine: 4 s failed once under load (the give-up itself is 3 s).
TEST(ExceptionTest, AnUnresolvableNeighbourFailsTheHostsConnectQuickly) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true));
    ASSERT_TRUE(d.ok()) << d.message();
    const auto [error, took] = try_connect(t.host, *Ipv4Address::parse("192.168.93.77"), 80, 8);
    EXPECT_EQ(error, EHOSTUNREACH) << std::strerror(error) << "\n" << d->log();
    EXPECT_LT(took, std::chrono::seconds(6));
    EXPECT_GE(d->drops("arp_unresolved"), 1u);
}

// The host end of a container's veth sits in dpdockd's namespace, which holds
// the gateway address on dpdock0: the kernel must not answer the container's
// ARP for it there. Before, it did (arp_ignore 0), the container learnt the
// veth's MAC for its gateway, and its first packets went to the kernel: a
// first ping was punted and answered by Linux, a first DNS query refused.
TEST(ExceptionTest, AContainersFirstPacketToItsGatewayIsTheDataplanes) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(t.c1, kGatewayIp, 2)) << d->log();
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_EQ((*stats)["exception"]["punted"].get<std::uint64_t>(), 0u) << stats->dump();
    const std::string neigh = t.c1.exec_output("ip neigh show " + kGatewayIp.to_string());
    EXPECT_NE(neigh.find("lladdr " + docker_mac_for(kGatewayIp).to_string()), std::string::npos) << neigh;
}

// Networks created and removed at run time move their gateways on and off dpdock0.
TEST(ExceptionTest, GatewayAddressesFollowNetworks) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true));
    ASSERT_TRUE(d.ok()) << d.message();
    d->cli_expect("network create --subnet 10.77.0.0/24 extra");
    EXPECT_NE(t.host.exec_output("ip -4 -o addr show dev dpdock0").find("10.77.0.1/24"), std::string::npos);
    d->cli_expect("network rm extra");
    EXPECT_EQ(t.host.exec_output("ip -4 -o addr show dev dpdock0").find("10.77.0.1"), std::string::npos);
}

// Published ports from the host itself, through the host proxy (docker-proxy's
// job): a 127.0.0.1 binding is reached at localhost from the host netns and
// refused from outside (the kernel's RST: the dataplane never matches it); a
// 0.0.0.0 binding at localhost and the host address from the host, and from
// outside through the dataplane's DNAT as before.
TEST(ExceptionTest, PublishedPortsAreReachedFromTheHostThroughTheProxy) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true, "    publish: ['127.0.0.1:8080:80', '8081:81']\n"));
    ASSERT_TRUE(d.ok()) << d.message();
    const Ipv4Address localhost = *Ipv4Address::parse("127.0.0.1");
    auto st = transfer_to_c1(t, t.host, localhost, 8080, 80);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    st = transfer_to_c1(t, t.host, localhost, 8081, 81);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    st = transfer_to_c1(t, t.host, kHostIp, 8081, 81);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    st = transfer_to_c1(t, t.ext, kHostIp, 8081, 81);
    EXPECT_TRUE(st.ok()) << st.message() << d->log();
    const auto [error, took] = try_connect(t.ext, kHostIp, 8080);
    EXPECT_EQ(error, ECONNREFUSED) << std::strerror(error);
    EXPECT_LT(took, std::chrono::seconds(2));
    auto stats = d->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_GE((*stats)["exception"]["proxy"]["accepted"].get<std::uint64_t>(), 3u) << stats->dump();
}

// CPU seconds the host proxy thread ("dpdock-proxy") of dpdockd `pid` has used so far.
double proxy_cpu_seconds(pid_t pid) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task/";
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        if (name != "dpdock-proxy") continue;
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    ADD_FAILURE() << "no dpdock-proxy thread in " << tasks;
    return 0;
}

// A client that half-closes and then reads slowly, from a container that
// answers and closes: the proxy's container socket is hung up (both
// directions shut) while its bytes wait for the client. That wait costs no
// CPU (before, epoll reported the hang-up again and again and the proxy
// thread spun at 100% until the client read), and every byte arrives.
TEST(ExceptionTest, AHungUpContainerWaitingForASlowClientCostsTheProxyNothing) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true, "    publish: ['127.0.0.1:8080:80']\n"));
    ASSERT_TRUE(d.ok()) << d.message();
    constexpr std::size_t kAnswer = 4 * 1024 * 1024;  // more than the socket buffers towards the client and the pipe hold
    std::promise<bool> listening_promise;  // the client connects only once the container listens
    std::future<bool> container_listens = listening_promise.get_future();
    std::thread container([&] {
        bool told = false;  // whether listening_promise has its value
        const Status entered = run_in(t.c1, [&] {
                        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        const int on = 1;
                        ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
                        sockaddr_in a{};
                        a.sin_family = AF_INET;
                        a.sin_port = htons(80);
                        a.sin_addr.s_addr = kC1Ip.be().raw();
                        timeval tv{10, 0};
                        ::setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                        if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0) {
                            ADD_FAILURE() << "container listen: " << std::strerror(errno);
                            ::close(l);
                            told = true;
                            listening_promise.set_value(false);
                            return;
                        }
                        told = true;
                        listening_promise.set_value(true);
                        const int c = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
                        ::close(l);
                        if (c < 0) return;
                        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                        ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                        char request[64];
                        while (::recv(c, request, sizeof request, 0) > 0) {
                        }
                        std::string answer(kAnswer, '\0');
                        for (std::size_t i = 0; i < kAnswer; ++i) answer[i] = static_cast<char>(i * 7 + i / 256);
                        ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
                        ::close(c);
                    });
        EXPECT_TRUE(entered.ok()) << entered.message();
        if (!told) listening_promise.set_value(false);
    });
    if (!container_listens.get()) {
        container.join();
        return;
    }
    std::string received;
    double spent = 0;
    const Status client = run_in(t.host, [&] {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int small = 4096;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        timeval tv{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(8080);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ADD_FAILURE() << "connect: " << std::strerror(errno);
            ::close(fd);
            return;
        }
        ::send(fd, "GET", 3, MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the container answers and closes
        const double before = proxy_cpu_seconds(d->process().pid());
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the client does not read
        spent = proxy_cpu_seconds(d->process().pid()) - before;
        char buffer[8192];
        ssize_t n;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) received.append(buffer, static_cast<std::size_t>(n));
        ::close(fd);
    });
    container.join();
    ASSERT_TRUE(client.ok()) << client.message();
    EXPECT_LT(spent, 0.2) << "CPU seconds of the proxy thread while the client did not read";
    ASSERT_EQ(received.size(), kAnswer) << d->log();
    for (std::size_t i = 0; i < kAnswer; ++i) {
        ASSERT_EQ(received[i], static_cast<char>(i * 7 + i / 256)) << "byte " << i;
    }
}

// The proxy's listeners come and go with the container; a port another
// program holds in the host netns refuses the publication with Docker's words
// and changes nothing.
TEST(ExceptionTest, HostProxyListenersFollowContainersAndRefuseTakenPorts) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, true));
    ASSERT_TRUE(d.ok()) << d.message();
    const std::string attach = "attach --name c2 --netns " + t.c2.path() + " -p ";

    d->cli_expect(attach + "127.0.0.1:8091:80");
    EXPECT_TRUE(listening(t.host, 8091));
    d->cli_expect("detach c2");
    EXPECT_FALSE(listening(t.host, 8091));

    int taken = -1;  // a program of the host on 127.0.0.1:8090
    ASSERT_TRUE(run_in(t.host, [&] {
                    taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    sockaddr_in a{};
                    a.sin_family = AF_INET;
                    a.sin_port = htons(8090);
                    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                    if (::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(taken, 1) != 0) {
                        ::close(taken);
                        taken = -1;
                    }
                }).ok());
    ASSERT_GE(taken, 0);
    auto before = d->observable_state();
    ASSERT_TRUE(before.ok()) << before.message();
    const std::string out = d->cli_expect(attach + "127.0.0.1:8090:80", 1);
    EXPECT_NE(out.find("Bind for 127.0.0.1:8090 failed: port is already allocated"), std::string::npos) << out;
    auto after = d->observable_state();
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, *before);
    ::close(taken);
}

// Off (the default): nothing is created and the host's addresses serve only
// ARP and ping; a loopback publication is refused at once, saying why.
TEST(ExceptionTest, OffByDefault) {
    Topology t;
    make_topology(t);
    auto d = DpdockdInstance::start_in(t.host, yaml(t, false));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_NE(t.host.exec("ip link show dpdock0 >/dev/null 2>&1"), 0);
    const auto [error, took] = try_connect(t.c1, kGatewayIp, 18099, 1);
    EXPECT_NE(error, ECONNREFUSED);
    EXPECT_GT(d->drops("not_served"), 0u);
    const std::string out = d->cli_expect("attach --name c2 --netns " + t.c2.path() + " -p 127.0.0.1:8080:80", 1);
    EXPECT_NE(out.find("needs the exception path"), std::string::npos) << out;
}

}  // namespace
}  // namespace dpdock::test
