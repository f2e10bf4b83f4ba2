// Podman 4.3 (Debian's, CNI backend) runs containers on a dpdock network
// through dpdock-cni, with nothing of Podman's own networking chained: two
// containers ping each other, a `-p` published port serves a file to ext
// behind the uplink (bytes compared), and `podman rm -f` leaves no endpoint,
// DNAT rule or host interface behind. Podman gets a private root, run root,
// containers.conf and CNI directory, so it never touches another Podman's
// state; the image is imported offline from busybox-static.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

class PodmanCniTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (shell("command -v podman >/dev/null && test -x /bin/busybox") != 0) GTEST_SKIP() << "podman or busybox-static missing";
        auto outside = make_outside("192.168.84", "pod");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 20\n" + outside_->uplink_yaml() +
                                        "networks:\n  - name: pdnet\n    subnet: 10.88.7.0/24\n");
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        dir_ = daemon_->dir() + "/podman";
        const std::string rootfs = dir_ + "/rootfs";
        ASSERT_EQ(shell("mkdir -p " + dir_ + "/cni " + dir_ + "/bin " + rootfs + "/bin " + rootfs + "/www && cp /bin/busybox " +
                        rootfs + "/bin/ && for c in sh ping httpd sleep; do ln -s busybox " + rootfs +
                        "/bin/$c; done && head -c 200000 /dev/urandom > " + rootfs + "/www/data && ln -s " +
                        DPDOCK_CNI_PATH + " " + dir_ + "/bin/dpdock && tar -C " + rootfs + " -cf " + dir_ +
                        "/rootfs.tar ."),
                  0);
        std::ofstream(dir_ + "/cni/pdnet.conflist")
            << R"({"cniVersion":"1.0.0","name":"pdnet","plugins":[{"type":"dpdock","socket":")"
            << daemon_->socket_path() << R"(","capabilities":{"portMappings":true}}]})";
        std::ofstream(dir_ + "/containers.conf") << "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"" << dir_
                                                  << "/bin\"]\nnetwork_config_dir = \"" << dir_
                                                  << "/cni\"\n[engine]\nevents_logger = \"file\"\ncgroup_manager = "
                                                     "\"cgroupfs\"\n"
                                                  // crun refuses hybrid cgroup hierarchies with a controller
                                                  // left in v2 (hugetlb here); runc takes them.
                                                  << "runtime = \"runc\"\n";
        ASSERT_EQ(podman("import " + dir_ + "/rootfs.tar localhost/dpdock-busybox >/dev/null"), 0);
        imported_ = true;
    }

    void TearDown() override {
        if (!imported_) return;
        podman("rm -af -t 0 >/dev/null 2>&1");
        podman("rmi -af >/dev/null 2>&1");
        shell("rm -rf " + dir_);
    }

    // `podman ARGS` on the private storage and configuration; its exit code.
    int podman(const std::string& args) const { return shell(podman_command(args)); }
    std::string podman_command(const std::string& args) const {
        return "CONTAINERS_CONF=" + dir_ + "/containers.conf timeout 90 podman --root " + dir_ + "/root --runroot " +
               dir_ + "/run --tmpdir " + dir_ + "/tmp --storage-driver vfs " + args;
    }

    std::optional<Outside> outside_;
    std::optional<DpdockdInstance> daemon_;
    std::string dir_;
    bool imported_ = false;
};

// This machine's sandbox refuses raising RLIMIT_NOFILE/NPROC: the containers ask for modest ones.
constexpr const char* kRun = "run -d --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --network pdnet ";

TEST_F(PodmanCniTest, ContainersPingAndPublishOnADpdockNetwork) {
    ASSERT_EQ(podman(std::string(kRun) + "--name web -p 8080:80 localhost/dpdock-busybox httpd -f -p 80 -h /www"), 0)
        << daemon_->log();
    ASSERT_EQ(podman(std::string(kRun) + "--name client localhost/dpdock-busybox sleep 600"), 0);

    auto ps = daemon_->call("container.ps");
    ASSERT_TRUE(ps.ok()) << ps.message();
    ASSERT_EQ(ps->size(), 2u) << ps->dump();
    std::string web_ip;
    std::vector<std::string> host_ifs;
    for (const auto& c : *ps) {
        host_ifs.push_back(c["networks"][0]["host_interface"]);
        if (c["netns"].get<std::string>().find("/run/netns/") != 0) ADD_FAILURE() << c.dump();
    }
    const std::string inspect = shell_output(podman_command("inspect -f '{{.NetworkSettings.Networks.pdnet.IPAddress}}' web"));
    web_ip = inspect.substr(0, inspect.find('\n'));
    ASSERT_EQ(web_ip.rfind("10.88.7.", 0), 0u) << inspect;

    EXPECT_EQ(podman("exec client ping -c 3 -W 2 " + web_ip + " >/dev/null"), 0) << daemon_->log();

    // The published port from ext, through dpdock's DNAT at the uplink address: the file, byte for byte.
    const std::string got = dir_ + "/got";
    const std::string url = "http://" + outside_->host_ip.to_string() + ":8080/data";
    EXPECT_EQ(outside_->ns.exec("python3 -c \"import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen('" +
                                url + "', timeout=10).read())\" > " + got),
              0)
        << daemon_->log();
    EXPECT_EQ(shell("cmp " + got + " " + dir_ + "/rootfs/www/data"), 0);

    // podman rm -f: CNI DEL for each, nothing left behind.
    ASSERT_EQ(podman("rm -f -t 0 web client >/dev/null"), 0);
    auto after = daemon_->call("container.ps");
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, json::array());
    auto rules = daemon_->call("nat.rules");
    ASSERT_TRUE(rules.ok()) << rules.message();
    EXPECT_EQ(rules->dump().find("DNAT"), std::string::npos) << rules->dump();
    for (const auto& ifname : host_ifs) EXPECT_NE(shell("ip link show " + ifname + " >/dev/null 2>&1"), 0) << ifname;
}

}  // namespace
}  // namespace dpdock::test
