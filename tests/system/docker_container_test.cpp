// Debian's dockerd 20.10 runs two containers with `--network none`;
// `dpdock attach --container NAME` asks it for their namespaces and puts them
// on dpdock's default bridge: they ping each other. `docker stop` is noticed
// (the endpoint goes), and after `docker start` the container attaches again.
// dockerd gets private data, exec root and socket, no bridge and no iptables
// rules, so it touches nothing of the host's or another dockerd's; the image
// is imported offline from busybox-static.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

class DockerContainerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 20\n");
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        dir_ = daemon_->dir() + "/dk";
        host_ = "unix://" + dir_ + "/docker.sock";
        const std::string rootfs = dir_ + "/rootfs";
        ASSERT_EQ(shell("mkdir -p " + rootfs + "/bin && cp /bin/busybox " + rootfs +
                        "/bin/ && for c in sh ping sleep; do ln -s busybox " + rootfs + "/bin/$c; done && tar -C " +
                        rootfs + " -cf " + dir_ + "/rootfs.tar ."),
                  0);
        auto p = ChildProcess::spawn({"dockerd", "--data-root", dir_ + "/data", "--exec-root", dir_ + "/exec",
                                      "--pidfile", dir_ + "/dockerd.pid", "-H", host_, "--bridge=none",
                                      "--iptables=false", "--ip6tables=false", "--ip-forward=false",
                                      "--ip-masq=false", "--storage-driver", "vfs"},
                                     dir_ + "/dockerd.log");
        ASSERT_TRUE(p.ok()) << p.message();
        dockerd_.emplace(std::move(*p));
        ASSERT_TRUE(wait_until([&] { return docker("version >/dev/null 2>&1") == 0; }, std::chrono::seconds(60)))
            << shell_output("tail -20 " + dir_ + "/dockerd.log");
        ASSERT_EQ(docker("import " + dir_ + "/rootfs.tar dpdock-busybox >/dev/null"), 0);
    }

    void TearDown() override {
        if (!dockerd_) return;
        docker("rm -f web client >/dev/null 2>&1");
        // SIGTERM: dockerd stops its containerd; a SIGKILL would leave it running.
        if (dockerd_->send_signal(15).ok()) (void)dockerd_->wait_for_exit(std::chrono::seconds(30));
        shell("rm -rf " + dir_);
    }

    int docker(const std::string& args) const { return shell("DOCKER_HOST=" + host_ + " timeout 60 docker " + args); }
    std::string attach(const std::string& name) const {
        return daemon_->cli_expect("attach --container " + name + " --docker-host " + host_);
    }

    std::optional<DpdockdInstance> daemon_;
    std::optional<ChildProcess> dockerd_;
    std::string dir_;
    std::string host_;
};

TEST_F(DockerContainerTest, AttachedByNameTheyPingAndAStopIsNoticed) {
    for (const char* name : {"web", "client"}) {
        ASSERT_EQ(docker(std::string("run -d --network none --name ") + name + " dpdock-busybox sleep 600 >/dev/null"), 0);
    }
    EXPECT_EQ(attach("web"), "web\n");
    EXPECT_EQ(attach("client"), "client\n");
    EXPECT_EQ(docker("exec client ping -c 3 -W 2 172.17.0.2 >/dev/null"), 0) << daemon_->log();

    ASSERT_EQ(docker("stop -t 0 web >/dev/null"), 0);
    EXPECT_TRUE(wait_until([&] { return !daemon_->port_stats("web/bridge").has_value(); }, std::chrono::seconds(10)))
        << daemon_->log();
    ASSERT_EQ(docker("start web >/dev/null"), 0);
    EXPECT_EQ(attach("web"), "web\n");
    EXPECT_EQ(docker("exec client ping -c 3 -W 2 172.17.0.2 >/dev/null"), 0) << daemon_->log();
}

}  // namespace
}  // namespace dpdock::test
