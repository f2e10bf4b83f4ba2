// `dpdock attach --container NAME|ID` (issue 13 item 5): the CLI asks the
// Docker Engine API for the container's State.Pid and attaches
// /proc/PID/ns/net. No dockerd here: a small HTTP server on a Unix socket
// answers GET /containers/REF/json with what dockerd answers (the fields the
// CLI reads, Docker's 404 body); the "container" is a process started inside a
// test namespace, so the namespace, veth and traffic are real.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Docker's API on a Unix socket, serving the containers it was given by name
// and by ID (prefix), as dockerd does.
class FakeDockerApi {
public:
    explicit FakeDockerApi(std::string path) : path_(std::move(path)) {
        ::unlink(path_.c_str());
        server_.set_address_family(AF_UNIX);
        server_.Get(R"(/containers/([^/]+)/json)", [this](const httplib::Request& req, httplib::Response& res) {
            // Go's HTTP server (dockerd's) refuses a Host that is not a host name,
            // such as a socket's path.
            if (req.get_header_value("Host").find('/') != std::string::npos) {
                res.status = 400;
                res.set_content("400 Bad Request: malformed Host header", "text/plain");
                return;
            }
            const std::string ref = req.matches[1].str();
            std::lock_guard lock(mutex_);
            for (const auto& [name, inspect] : containers_) {
                const std::string id = inspect["Id"];
                if (ref == name || (ref.size() >= 4 && id.starts_with(ref))) {
                    res.set_content(inspect.dump(), "application/json");
                    return;
                }
            }
            res.status = 404;
            res.set_content(json{{"message", "No such container: " + ref}}.dump(), "application/json");
        });
        thread_ = std::thread([this] { server_.listen(path_.c_str(), 80); });
        wait_until([this] { return server_.is_running(); }, std::chrono::seconds(5));
    }
    ~FakeDockerApi() {
        server_.stop();
        thread_.join();
        ::unlink(path_.c_str());
    }
    // What `docker inspect` shows of a container (the fields dpdock reads).
    void add(const std::string& name, const std::string& id, int pid, bool running, const std::string& mode) {
        std::lock_guard lock(mutex_);
        containers_[name] = {{"Id", id},
                             {"Name", "/" + name},
                             {"State", {{"Status", running ? "running" : "exited"}, {"Running", running}, {"Pid", pid}}},
                             {"HostConfig", {{"NetworkMode", mode}}}};
    }
    std::string url() const { return "unix://" + path_; }

private:
    std::string path_;
    httplib::Server server_;
    std::thread thread_;
    std::mutex mutex_;
    std::map<std::string, json> containers_;
};

class DockerAttachTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n");
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        docker_.emplace(daemon_->dir() + "/docker.sock");
        web_ns_.emplace(make_netns("dkweb"));
        // The container's first process: `ip netns exec` execs sleep, same pid.
        auto p = ChildProcess::spawn({"ip", "netns", "exec", web_ns_->name(), "sleep", "120"},
                                     daemon_->dir() + "/web.log");
        ASSERT_TRUE(p.ok()) << p.message();
        web_.emplace(std::move(*p));
        ASSERT_TRUE(wait_until([&] { return same_netns(web_->pid(), web_ns_->path()); }, std::chrono::seconds(5)));
    }
    static bool same_netns(pid_t pid, const std::string& path) {
        struct stat a {}, b {};
        return ::stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &a) == 0 &&
               ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
    }
    std::string attach(const std::string& args) const { return "attach --docker-host " + docker_->url() + " " + args; }

    std::optional<DpdockdInstance> daemon_;
    std::optional<FakeDockerApi> docker_;
    std::optional<Netns> web_ns_;
    std::optional<ChildProcess> web_;
};

TEST_F(DockerAttachTest, AttachesTheContainersNamespaceUnderItsDockerName) {
    docker_->add("web", "4f2a9c0d11e3b7aa", web_->pid(), true, "none");
    Netns other = make_netns("dkoth");
    EXPECT_EQ(daemon_->cli_expect(attach("--container web --ip 172.17.0.10")), "web\n");
    daemon_->cli_expect("attach --name other --netns " + other.path() + " --ip 172.17.0.11");

    auto ps = json::parse(daemon_->cli_expect("--format json ps"));
    ASSERT_EQ(ps.size(), 2u) << ps.dump();
    EXPECT_EQ(ps[0]["name"], "web");
    EXPECT_EQ(ps[0]["netns"], "/proc/" + std::to_string(web_->pid()) + "/ns/net") << ps.dump();
    EXPECT_TRUE(contains(web_ns_->exec_output("ip -o -4 addr show dev eth0"), "172.17.0.10/16"));
    EXPECT_TRUE(ping(other, *Ipv4Address::parse("172.17.0.10"), 3)) << daemon_->log();

    // Its process gone (docker stop), the namespace at /proc/PID is gone: detached.
    web_.reset();
    EXPECT_TRUE(wait_until([&] { return !daemon_->port_stats("web/bridge").has_value(); }, std::chrono::seconds(10)))
        << daemon_->log();
}

TEST_F(DockerAttachTest, ByIdPrefixWithAnotherName) {
    docker_->add("web", "4f2a9c0d11e3b7aa", web_->pid(), true, "none");
    EXPECT_EQ(daemon_->cli_expect(attach("--container 4f2a9c --name front")), "front\n");
    EXPECT_TRUE(contains(daemon_->cli_expect("ps"), "front"));
}

TEST_F(DockerAttachTest, ErrorsSayWhyAndAttachNothing) {
    docker_->add("stopped", "aaaa000011112222", 0, false, "none");
    docker_->add("hostnet", "bbbb000011112222", web_->pid(), true, "host");
    EXPECT_EQ(daemon_->cli_expect(attach("--container nope"), 1), "Error: No such container: nope\n");
    EXPECT_EQ(daemon_->cli_expect(attach("--container stopped"), 1),
              "Error: container stopped is not running: its network namespace exists only while it runs "
              "(docker start stopped)\n");
    EXPECT_TRUE(contains(daemon_->cli_expect(attach("--container hostnet"), 1),
                         "Error: container hostnet shares the host's network namespace (--network host)"));
    EXPECT_TRUE(contains(daemon_->cli_expect(attach("--container ../x"), 1),
                         "Error: \"../x\" is not a Docker container name or ID"));
    const std::string gone = "unix://" + daemon_->dir() + "/no-docker.sock";
    EXPECT_EQ(daemon_->cli_expect("attach --container web --docker-host " + gone, 1),
              "Error: cannot reach Docker at " + gone +
                  " (Connection): is dockerd running? (--docker-host or DOCKER_HOST name another daemon)\n");
    EXPECT_TRUE(contains(daemon_->cli_expect("attach --container web --docker-host ssh://h", 1),
                         "give unix:///PATH or tcp://HOST:PORT"));
    EXPECT_TRUE(contains(daemon_->cli_expect("attach --container web --netns /run/netns/x", 2),
                         "give one of --netns and --container"));
    EXPECT_EQ(daemon_->cli_expect("--format json ps"), "[]\n");
}

}  // namespace
}  // namespace dpdock::test
