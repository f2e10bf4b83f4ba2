// The `dpdock` binary end to end against an in-process ControlServer: output
// bytes and exit codes (0 ok, 1 daemon error, 2 usage error).
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/unit/control/control_test_util.hpp"

extern char** environ;

namespace dpdock::control::test {
namespace {

struct CliRun {
    int exit_code = -1;
    std::string out;
    std::string err;
};

class Cli {
public:
    Cli(std::vector<std::string> args, const std::string& stderr_path, std::vector<std::string> env = {}) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return;
        out_fd_ = fds[0];
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        args.insert(args.begin(), DPDOCK_CLI_PATH);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (char** e = environ; *e != nullptr; ++e) {
            if (std::string_view(*e).rfind("DPDOCK_SOCKET=", 0) != 0) env.emplace_back(*e);
        }
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        if (posix_spawn(&pid_, DPDOCK_CLI_PATH, &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
    }
    ~Cli() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_fd_ >= 0) close(out_fd_);
    }
    Cli(const Cli&) = delete;
    Cli& operator=(const Cli&) = delete;

    // Reads stdout until `done(out)` or EOF (bounded by kWait).
    template <typename Done>
    std::string read_until(Done done) {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (!done(out_) && std::chrono::steady_clock::now() < deadline) {
            pollfd pfd{out_fd_, POLLIN, 0};
            if (poll(&pfd, 1, 100) <= 0) continue;
            char chunk[4096];
            const ssize_t n = read(out_fd_, chunk, sizeof chunk);
            if (n <= 0) break;
            out_.append(chunk, static_cast<std::size_t>(n));
        }
        return out_;
    }
    int wait() {
        int status = 0;
        if (pid_ <= 0 || waitpid(pid_, &status, 0) != pid_) return -1;
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::string out_;
};

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_.registry().add("version", "versions", [](const json&) -> Result<json> {
            return json{{"dpdk", "DPDK 22.11.test"}, {"dpdockd", "9.9.9"}};
        });
        server_.registry().add("stats.show", "counters", [](const json&) -> Result<json> {
            return json::parse(R"({
              "ports": [
                {"port_id": 0, "name": "uplink", "rx_packets": 10, "rx_bytes": 1500, "tx_packets": 7,
                 "tx_bytes": 900, "drops": 1},
                {"port_id": 12, "name": "c1", "rx_packets": 123456, "rx_bytes": 7, "tx_packets": 0,
                 "tx_bytes": 0, "drops": 0}],
              "drops": {"bad_header": 1, "no_route": 0},
              "workers": [{"worker": 0, "lcore": 1, "rx_packets": 10, "tx_packets": 7, "spread_out": 3,
                           "spread_in": 2, "loops": 99, "cycles_per_packet": 80.5,
                           "idle": {"waits": 40, "fd_wakes": 30, "timeouts": 10, "rx_after_fd_wake": 29,
                                    "rx_after_timeout": 1, "wait_us_avg": 12.25, "wake_to_rx_us_avg": 3.5}}]})");
        });
        server_.registry().add("stats.clear", "clear", [this](const json& args) -> Result<json> {
            if (auto st = reject_unknown_keys(args, {}); !st) return st;
            ++clears_;
            return json::object();
        });
        ASSERT_TRUE(server_.start());
    }

    CliRun run(std::vector<std::string> args, std::vector<std::string> env = {}) {
        const std::string err_path = server_.dir() + "/stderr";
        CliRun result;
        {
            Cli cli(std::move(args), err_path, std::move(env));
            result.out = cli.read_until([](const std::string&) { return false; });
            result.exit_code = cli.wait();
        }
        std::ifstream err(err_path);
        std::stringstream text;
        text << err.rdbuf();
        result.err = text.str();
        return result;
    }

    std::atomic<int> clears_{0};  // before server_: its handler counts here until the server stops
    TestServer server_;
};

TEST_F(CliTest, RawPrintsTheResultAsJson) {
    const CliRun r = run({"--socket", server_.path(), "raw", "echo", R"({"name":"net1","mtu":1400})"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "{\n  \"mtu\": 1400,\n  \"name\": \"net1\"\n}\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, SocketFromEnvironment) {
    const CliRun r = run({"raw", "echo"}, {"DPDOCK_SOCKET=" + server_.path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "{}\n");
}

TEST_F(CliTest, DaemonErrorExitsOne) {
    const CliRun r = run({"--socket", server_.path(), "raw", "fail"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "Error: it failed\n");
}

TEST_F(CliTest, UsageErrorsExitTwo) {
    EXPECT_EQ(run({"--socket", server_.path(), "raw"}).exit_code, 2);
    EXPECT_EQ(run({"--socket", server_.path(), "raw", "echo", "[1]"}).exit_code, 2);
    EXPECT_EQ(run({"--socket", server_.path(), "raw", "echo", "{", "extra"}).exit_code, 2);
    EXPECT_EQ(run({"--socket", server_.path(), "stats", "--bogus"}).exit_code, 2);
    EXPECT_EQ(run({"--format", "xml", "stats"}).exit_code, 2);
    EXPECT_EQ(run({}).exit_code, 2);
    const CliRun unknown = run({"frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_EQ(unknown.err.rfind("Error: unknown command \"frobnicate\"\n", 0), 0u) << unknown.err;
}

TEST_F(CliTest, HelpExitsZero) {
    const CliRun top = run({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    EXPECT_NE(top.out.find("  stats               Show packet counters"), std::string::npos) << top.out;
    const CliRun sub = run({"stats", "--help"});
    EXPECT_EQ(sub.exit_code, 0);
    EXPECT_EQ(sub.out.rfind("Usage: dpdock stats [--all] [--watch]\n", 0), 0u) << sub.out;
}

TEST_F(CliTest, NotRunningIsExplained) {
    const std::string missing = server_.dir() + "/absent.sock";
    const CliRun r = run({"--socket", missing, "stats"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "Error: dpdockd is not running (no socket at " + missing + ")\n");
}

TEST_F(CliTest, StatsTable) {
    const CliRun r = run({"--socket", server_.path(), "stats"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "PORT  NAME    RX PACKETS  RX BYTES  TX PACKETS  TX BYTES  DROPS\n"
              "0     uplink  10          1500      7           900       1\n"
              "12    c1      123456      7         0           0         0\n"
              "\n"
              "DROP REASON  PACKETS\n"
              "bad_header   1\n"
              "(1 more at zero; --all shows them)\n"
              "\n"
              "WORKER  LCORE  RX PACKETS  TX PACKETS  HANDED OUT  TAKEN IN  LOOPS  CYCLES/PKT\n"
              "0       1      10          7           3           2         99     80.5\n"
              "\n"
              "WORKER  IDLE WAITS  FD WAKES  TIMEOUTS  RX AFTER FD  RX AFTER TIMEOUT  WAIT US AVG  WAKE->RX US AVG\n"
              "0       40          30        10        29           1                 12.2         3.5\n");
}

TEST_F(CliTest, StatsAllShowsTheDropReasonsAtZero) {
    const CliRun r = run({"--socket", server_.path(), "stats", "--all"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("DROP REASON  PACKETS\nbad_header   1\nno_route     0\n\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, StatsClearAsksTheDaemon) {
    const CliRun r = run({"--socket", server_.path(), "stats", "clear"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(clears_, 1);
}

TEST_F(CliTest, StatsJsonAfterTheSubcommand) {
    const CliRun r = run({"stats", "--socket", server_.path(), "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json parsed = json::parse(r.out, nullptr, false);
    EXPECT_EQ(parsed["ports"][1]["rx_packets"], 123456) << r.out;
}

TEST_F(CliTest, StatsWatchRepeats) {
    const std::string err_path = server_.dir() + "/stderr";
    Cli cli({"--socket", server_.path(), "--format", "json", "stats", "--watch"}, err_path);
    const std::string out = cli.read_until([](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= 2; });
    ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
    const std::string first = out.substr(0, out.find('\n'));
    EXPECT_EQ(json::parse(first)["workers"][0]["loops"], 99);
    EXPECT_EQ(out, first + "\n" + first + "\n");
    ASSERT_EQ(kill(cli.pid(), SIGTERM), 0);
    EXPECT_EQ(cli.wait(), 128 + SIGTERM);
}

TEST_F(CliTest, VersionAsksTheDaemon) {
    const CliRun r = run({"--socket", server_.path(), "version"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("Client:\n  version: ") + DPDOCK_VERSION +
                         "\nServer:\n  dpdk: DPDK 22.11.test\n  dpdockd: 9.9.9\n");
    const CliRun down = run({"--socket", server_.dir() + "/absent.sock", "version"});
    EXPECT_EQ(down.exit_code, 1);
    EXPECT_EQ(down.out, std::string("Client:\n  version: ") + DPDOCK_VERSION + "\n");
}

}  // namespace
}  // namespace dpdock::control::test
