// Debian's Docker (20.10) runs containers on dpdock networks through
// dpdock-docker-plugin: two containers ping each other by name (Docker's
// embedded DNS), a `-p` published port serves a file to ext behind the uplink
// (bytes compared), `docker network connect/disconnect` work on a running
// container, `docker rm -f` leaves no endpoint, DNAT rule or host interface
// behind, and wrong requests get {"Err": ...} and change nothing. dockerd and
// the plugin run in their own network namespace (nsenter --net, as `ip netns
// exec` would remount /sys) with a private data root, exec root, pid file and
// socket, and a driver name of their own, so no other Docker is touched; the
// image is imported offline from busybox-static.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

class DockerPluginTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (shell("command -v dockerd >/dev/null && test -x /bin/busybox") != 0) GTEST_SKIP() << "dockerd or busybox-static missing";
        auto outside = make_outside("192.168.85", "dkr");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 20\n" + outside_->uplink_yaml());
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        auto ns = Netns::create("dkr");
        ASSERT_TRUE(ns.ok()) << ns.message();
        docker_ns_.emplace(std::move(*ns));

        // Short: containerd's sockets live under the exec root (sun_path is 108 bytes).
        dir_ = "/tmp/dkr-" + std::to_string(::getpid());
        driver_ = "dpdocktest" + std::to_string(::getpid());
        const std::string rootfs = dir_ + "/rootfs";
        ASSERT_EQ(shell("mkdir -p " + rootfs + "/bin " + rootfs + "/www && cp /bin/busybox " + rootfs +
                        "/bin/ && for c in sh ping httpd sleep ip cat; do ln -s busybox " + rootfs +
                        "/bin/$c; done && head -c 200000 /dev/urandom > " + rootfs + "/www/data && tar -C " + rootfs +
                        " -cf " + dir_ + "/rootfs.tar ."),
                  0);
        auto plugin = ChildProcess::spawn({"nsenter", "--net=" + docker_ns_->path(), DPDOCK_DOCKER_PLUGIN_PATH, "--name", driver_, "--socket",
                                           daemon_->socket_path(), "--save"},
                                          dir_ + "/plugin.log");
        ASSERT_TRUE(plugin.ok()) << plugin.message();
        plugin_.emplace(std::move(*plugin));
        start_dockerd();
        ASSERT_EQ(docker("import " + dir_ + "/rootfs.tar dpdock-busybox >/dev/null"), 0);
    }

    void TearDown() override {
        if (dockerd_) {
            docker("rm -f $(" + docker_command("ps -aq") + ") >/dev/null 2>&1");
            docker("network prune -f >/dev/null 2>&1");
            stop_dockerd();
        }
        if (plugin_) {
            plugin_->send_signal(SIGTERM);  // it removes its socket file
            if (!plugin_->wait_for_exit(std::chrono::seconds(5)).ok()) ADD_FAILURE() << "the plugin did not stop";
        }
        // dockerd's mounts under its data root, deepest first, then the files.
        if (!dir_.empty()) {
            shell("grep -o ' " + dir_ + "/[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount; rm -rf " + dir_);
        }
    }

    // dockerd in docker_ns_ (live-restore: containers outlive a dockerd
    // restart); returns once its socket answers.
    void start_dockerd() {
        auto dockerd = ChildProcess::spawn(
            {"nsenter", "--net=" + docker_ns_->path(), "dockerd", "--live-restore", "--data-root", dir_ + "/data",
             "--exec-root", dir_ + "/exec", "--pidfile", dir_ + "/dockerd.pid", "-H", "unix://" + dir_ + "/docker.sock",
             "--iptables=false", "--ip6tables=false", "--bridge=none", "--default-ulimit", "nofile=4096:4096",
             "--default-ulimit", "nproc=4096:4096"},
            dir_ + "/dockerd.log");
        ASSERT_TRUE(dockerd.ok()) << dockerd.message();
        dockerd_.emplace(std::move(*dockerd));
        const bool up = wait_until([&] { return docker("info >/dev/null 2>&1") == 0; }, std::chrono::seconds(20));
        ASSERT_TRUE(up) << shell_output("tail -20 " + dir_ + "/dockerd.log");
    }
    // SIGTERM (SIGKILL would leave containerd behind) and wait.
    void stop_dockerd() {
        dockerd_->send_signal(SIGTERM);
        if (!dockerd_->wait_for_exit(std::chrono::seconds(20)).ok()) ADD_FAILURE() << "dockerd did not stop";
        dockerd_.reset();
    }

    int docker(const std::string& args) const { return shell(docker_command(args)); }
    std::string docker_command(const std::string& args) const {
        return "timeout 60 /usr/bin/docker -H unix://" + dir_ + "/docker.sock " + args;
    }
    std::string docker_output(const std::string& args) const { return shell_output(docker_command(args) + " 2>&1"); }
    std::string logs() const {
        return daemon_->log() + "\n--- plugin ---\n" + shell_output("cat " + dir_ + "/plugin.log") + "\n--- dockerd ---\n" +
               shell_output("tail -30 " + dir_ + "/dockerd.log");
    }
    // web's file fetched from ext at the uplink address and host_port
    // (through dpdock's DNAT), compared byte for byte.
    void expect_file_served(int host_port) const {
        const std::string got = dir_ + "/got";
        const std::string url = "http://" + outside_->host_ip.to_string() + ":" + std::to_string(host_port) + "/data";
        EXPECT_EQ(outside_->ns.exec("python3 -c \"import sys, urllib.request; sys.stdout.buffer.write("
                                    "urllib.request.urlopen('" + url + "', timeout=10).read())\" > " + got),
                  0)
            << logs();
        EXPECT_EQ(shell("cmp " + got + " " + dir_ + "/rootfs/www/data"), 0);
    }
    // dpdock's name for the Docker network `name`.
    std::string dpdock_network(const std::string& name) const {
        return "docker-" + docker_output("network inspect -f '{{.Id}}' " + name).substr(0, 12);
    }

    std::optional<Outside> outside_;
    std::optional<DpdockdInstance> daemon_;
    std::optional<Netns> docker_ns_;
    std::optional<ChildProcess> plugin_;
    std::optional<ChildProcess> dockerd_;
    std::string dir_;
    std::string driver_;
};

constexpr const char* kRun = "run -d --network front ";

TEST_F(DockerPluginTest, ContainersPingByNamePublishConnectAndLeaveNothingBehind) {
    ASSERT_EQ(docker("network create -d " + driver_ + " --subnet 10.50.0.0/24 front >/dev/null"), 0) << logs();
    const std::string front = dpdock_network("front");
    auto networks = daemon_->call("network.inspect", {{"names", json::array({front})}});
    ASSERT_TRUE(networks.ok()) << networks.message() << logs();
    EXPECT_EQ((*networks)[0]["IPAM"]["Config"][0]["Subnet"], "10.50.0.0/24");
    EXPECT_EQ((*networks)[0]["IPAM"]["Config"][0]["Gateway"], "10.50.0.1");

    ASSERT_EQ(docker(std::string(kRun) + "--name web -p 8080:80 dpdock-busybox httpd -f -p 80 -h /www >/dev/null"), 0)
        << logs();
    ASSERT_EQ(docker(std::string(kRun) + "--name client dpdock-busybox sleep 600 >/dev/null"), 0) << logs();
    auto ps = daemon_->call("container.ps");
    ASSERT_TRUE(ps.ok()) << ps.message();
    ASSERT_EQ(ps->size(), 2u) << ps->dump();
    std::vector<std::string> host_ifs;
    for (const auto& c : *ps) {
        EXPECT_EQ(c["method"], "docker");
        host_ifs.push_back(c["networks"][0]["host_interface"]);
    }
    // Docker's address for web is the one dpdock forwards to.
    const std::string web_ip = docker_output("inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' web");
    EXPECT_EQ(web_ip.rfind("10.50.0.", 0), 0u) << web_ip;

    // By name: Docker's embedded DNS, then dpdock's bridge.
    EXPECT_EQ(docker("exec client ping -c 2 -W 2 web >/dev/null"), 0) << logs();

    // The published port from ext, through dpdock's DNAT at the uplink address: the file, byte for byte.
    expect_file_served(8080);
    // dpdock's endpoint for web (Docker's EndpointID) publishes it (`docker port` of Docker 20.10 shows
    // nothing for remote drivers).
    const std::string endpoint = docker_output("inspect -f '{{.NetworkSettings.Networks.front.EndpointID}}' web");
    auto ports = daemon_->call("container.port", {{"name", "docker-" + endpoint.substr(0, 12)}});
    ASSERT_TRUE(ports.ok()) << ports.message();
    EXPECT_EQ(*ports, json::parse(R"([{"container_port":"80/tcp","host_ip":"0.0.0.0","host_port":8080}])")) << ports->dump();

    // A second network on the running client, then gone again.
    ASSERT_EQ(docker("network create -d " + driver_ + " --subnet 10.51.0.0/24 back >/dev/null"), 0) << logs();
    ASSERT_EQ(docker("network connect back client"), 0) << logs();
    EXPECT_NE(docker_output("exec client ip -4 addr show eth1").find("10.51.0."), std::string::npos) << logs();
    auto connected = daemon_->call("container.ps");
    ASSERT_TRUE(connected.ok());
    EXPECT_EQ(connected->size(), 3u) << connected->dump();
    ASSERT_EQ(docker("network disconnect back client"), 0) << logs();
    EXPECT_NE(docker("exec client ip link show eth1 >/dev/null 2>&1"), 0);
    auto disconnected = daemon_->call("container.ps");
    ASSERT_TRUE(disconnected.ok());
    EXPECT_EQ(disconnected->size(), 2u) << disconnected->dump();

    // docker rm -f: Leave and DeleteEndpoint for each, nothing left behind.
    ASSERT_EQ(docker("rm -f web client >/dev/null"), 0);
    auto after = daemon_->call("container.ps");
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, json::array()) << logs();
    auto rules = daemon_->call("nat.rules");
    ASSERT_TRUE(rules.ok()) << rules.message();
    EXPECT_EQ(rules->dump().find("DNAT"), std::string::npos) << rules->dump();
    for (const auto& ifname : host_ifs) EXPECT_NE(shell("ip link show " + ifname + " >/dev/null 2>&1"), 0) << ifname;
    ASSERT_EQ(docker("network rm front back >/dev/null"), 0) << logs();
    auto ls = daemon_->call("network.ls");
    ASSERT_TRUE(ls.ok());
    EXPECT_EQ(ls->dump().find("docker-"), std::string::npos) << ls->dump();
}

// The plugin saves dpdockd's model at every change (--save): a dpdockd
// stopped and started again brings the running containers' endpoints back,
// names, addresses and published port included; Docker notices nothing.
TEST_F(DockerPluginTest, RunningContainersSurviveADpdockdRestart) {
    ASSERT_EQ(docker("network create -d " + driver_ + " --subnet 10.53.0.0/24 front >/dev/null"), 0) << logs();
    ASSERT_EQ(docker(std::string(kRun) + "--name web -p 8081:80 dpdock-busybox httpd -f -p 80 -h /www >/dev/null"), 0)
        << logs();
    ASSERT_EQ(docker(std::string(kRun) + "--name client dpdock-busybox sleep 600 >/dev/null"), 0) << logs();
    ASSERT_EQ(docker("exec client ping -c 1 -W 2 web >/dev/null"), 0) << logs();

    ASSERT_TRUE(daemon_->stop().ok()) << logs();
    EXPECT_EQ(docker("exec client ip link show eth0 >/dev/null"), 0) << "the container lost its interface";
    ASSERT_TRUE(daemon_->restart().ok()) << logs();
    auto ps = daemon_->call("container.ps");
    ASSERT_TRUE(ps.ok()) << ps.message();
    EXPECT_EQ(ps->size(), 2u) << ps->dump();
    EXPECT_EQ(docker("exec client ping -c 2 -W 2 web >/dev/null"), 0) << logs();
    expect_file_served(8081);
}

// dockerd restarts (live-restore): dpdock keeps the endpoints meanwhile, and
// the containers still reach each other by name when it is back.
TEST_F(DockerPluginTest, RunningContainersSurviveADockerdRestart) {
    ASSERT_EQ(docker("network create -d " + driver_ + " --subnet 10.54.0.0/24 front >/dev/null"), 0) << logs();
    ASSERT_EQ(docker(std::string(kRun) + "--name web dpdock-busybox sleep 600 >/dev/null"), 0) << logs();
    ASSERT_EQ(docker(std::string(kRun) + "--name client dpdock-busybox sleep 600 >/dev/null"), 0) << logs();
    ASSERT_EQ(docker("exec client ping -c 1 -W 2 web >/dev/null"), 0) << logs();
    stop_dockerd();
    auto ps = daemon_->call("container.ps");
    ASSERT_TRUE(ps.ok()) << ps.message();
    EXPECT_EQ(ps->size(), 2u) << ps->dump();
    start_dockerd();
    EXPECT_EQ(docker("exec client ping -c 2 -W 2 web >/dev/null"), 0) << logs();
    ASSERT_EQ(docker("rm -f web client >/dev/null"), 0);
    auto after = daemon_->call("container.ps");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, json::array()) << logs();
}

TEST_F(DockerPluginTest, WrongRequestsGetErrAndChangeNothing) {
    auto before = daemon_->observable_state();
    ASSERT_TRUE(before.ok()) << before.message();
    // What dpdock lacks is refused by name, through Docker...
    const std::string ipv6 = docker_output("network create -d " + driver_ + " --ipv6 --subnet fd00:50::/64 v6");
    EXPECT_NE(ipv6.find("IPv6"), std::string::npos) << ipv6;
    const std::string opt = docker_output("network create -d " + driver_ + " --subnet 10.52.0.0/24 -o macvlan_mode=bridge m");
    EXPECT_NE(opt.find("unknown option 'macvlan_mode'"), std::string::npos) << opt;
    // ...and straight on the plugin's socket: the protocol's error shape.
    auto post = [&](const std::string& method, const std::string& body) {
        return shell_output("curl -s --unix-socket /run/docker/plugins/" + driver_ + ".sock -d " + shell_quote(body) +
                            " http://plugin/" + method);
    };
    const json bad_id = json::parse(post("NetworkDriver.CreateNetwork", R"({"NetworkID":"../etc","IPv4Data":[]})"), nullptr, false);
    EXPECT_EQ(bad_id, json({{"Err", "NetworkID '../etc' is not a Docker id"}}));
    const json not_json = json::parse(post("NetworkDriver.Join", "{"), nullptr, false);
    EXPECT_EQ(not_json, json({{"Err", "the request body is not JSON"}}));
    const json no_endpoint =
        json::parse(post("NetworkDriver.Join", R"({"NetworkID":"abc","EndpointID":"def","SandboxKey":"/x"})"), nullptr, false);
    EXPECT_EQ(no_endpoint, json({{"Err", "endpoint def not found"}}));
    // Late or repeated deletes succeed (Docker repeats them after restarts).
    EXPECT_EQ(post("NetworkDriver.DeleteEndpoint", R"({"NetworkID":"abc","EndpointID":"def"})"), "{}");
    EXPECT_EQ(post("NetworkDriver.Leave", R"({"NetworkID":"abc","EndpointID":"def"})"), "{}");
    auto after = daemon_->observable_state();
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, *before);
    EXPECT_EQ(docker_output("network ls -q --filter driver=" + driver_), "");
}

}  // namespace
}  // namespace dpdock::test
