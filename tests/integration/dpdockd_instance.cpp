#include "tests/integration/dpdockd_instance.hpp"

#include <csignal>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/line_client.hpp"

namespace dpdock::test {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Result<std::string> roundtrip(const std::string& socket_path, const std::string& line) {
    using R = Result<std::string>;
    // Generous: a command that attaches several containers may take a while under ASan.
    LineClient client(socket_path, std::chrono::seconds(30));
    if (!client.connected()) return R::error("connect " + socket_path + " failed");
    if (!client.send_raw(line + "\n")) return R::error("send failed");
    auto answer = client.read_line();
    if (!answer) return R::error("no answer from the daemon");
    return *answer;
}

}  // namespace

Result<DpdockdInstance> DpdockdInstance::start_in_new_dir(const std::optional<std::string>& yaml_or_none,
                                                          std::vector<std::string> daemon_args) {
    static std::atomic<int> counter{0};
    DpdockdInstance d;
    d.dir_ = "/tmp/dpdock-it-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    std::filesystem::remove_all(d.dir_);
    std::filesystem::create_directories(d.dir_);
    d.config_ = d.dir_ + "/deployment.yaml";
    d.socket_ = d.dir_ + "/dpdock.sock";
    d.log_ = d.dir_ + "/dpdockd.log";
    d.daemon_args_ = std::move(daemon_args);
    if (yaml_or_none) {
        std::ofstream(d.config_) << *yaml_or_none;
    } else {
        d.config_.clear();
    }
    if (auto st = d.launch(); !st) return Result<DpdockdInstance>::error(st.message());
    return d;
}

Result<DpdockdInstance> DpdockdInstance::start(const std::string& yaml, std::vector<std::string> daemon_args) {
    return start_in_new_dir(yaml, std::move(daemon_args));
}

Result<DpdockdInstance> DpdockdInstance::start_in(const Netns& host, const std::string& yaml) {
    static std::atomic<int> counter{0};
    DpdockdInstance d;
    d.dir_ = "/tmp/dpdock-it-ns-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    std::filesystem::remove_all(d.dir_);
    std::filesystem::create_directories(d.dir_);
    d.config_ = d.dir_ + "/deployment.yaml";
    d.socket_ = d.dir_ + "/dpdock.sock";
    d.log_ = d.dir_ + "/dpdockd.log";
    d.netns_ = host.name();
    std::ofstream(d.config_) << yaml;
    if (auto st = d.launch(); !st) return Result<DpdockdInstance>::error(st.message());
    return d;
}

Result<DpdockdInstance> DpdockdInstance::start_without_config(std::vector<std::string> daemon_args) {
    // No file to ask for idle sleep: the lcores float instead of owning a CPU each.
    daemon_args.insert(daemon_args.end(), {"--", "--lcores=0@(0-1),1@(0-1)"});
    return start_in_new_dir(std::nullopt, std::move(daemon_args));
}

// DPDK 22.11's af_packet puts every socket in fanout group (pid ^ ifindex) &
// 0xffff of the host namespace and fails the probe when another process
// already holds that id. Two daemons of one test have close pids and close
// ifindexes, so their uplinks (whose ifindex the daemon cannot change, unlike
// a container veth's, see endpoint.cpp) collide now and then: a new process
// has a new pid, hence other group ids.
constexpr int kLaunchAttempts = 3;
constexpr const char* kFanoutCollision = "could not set PACKET_FANOUT";

Status DpdockdInstance::launch() {
    std::vector<std::string> argv = {DPDOCK_DPDOCKD_PATH, "--socket", socket_};
    if (!netns_.empty()) argv.insert(argv.begin(), {"ip", "netns", "exec", netns_});
    if (!config_.empty()) argv.insert(argv.end(), {"--config", config_});
    argv.insert(argv.end(), daemon_args_.begin(), daemon_args_.end());
    for (int attempt = 1;; ++attempt) {
        auto child = ChildProcess::spawn(argv, log_);
        if (!child) return Status::error(child.message());
        process_.emplace(std::move(*child));
        const bool up = wait_until(
            [&] {
                if (!process_->running()) return true;
                auto r = request("version");
                return r.ok() && r->value("ok", false);
            },
            std::chrono::seconds(30), std::chrono::milliseconds(100));
        if (up && process_->running()) return {};
        const std::string text = log();
        if (attempt == kLaunchAttempts || text.find(kFanoutCollision) == std::string::npos) {
            return Status::error("dpdockd did not come up; log:\n" + text);
        }
        process_.reset();
    }
}

Status DpdockdInstance::restart() {
    if (process_ && process_->running()) return Status::error("dpdockd is still running");
    return launch();
}

DpdockdInstance::~DpdockdInstance() {
    if (dir_.empty()) return;  // moved from
    if (process_ && process_->running()) {
        process_->send_signal(SIGTERM);
        process_->wait_for_exit(std::chrono::seconds(20));
    }
    process_.reset();  // SIGKILLs it if it still runs
    if (std::getenv("DPDOCK_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_);
}

Result<nlohmann::json> DpdockdInstance::request(const std::string& cmd, const nlohmann::json& args) const {
    auto line = roundtrip(socket_, nlohmann::json{{"cmd", cmd}, {"args", args}}.dump());
    if (!line) return Result<nlohmann::json>::error(line.message());
    try {
        return nlohmann::json::parse(*line);
    } catch (const nlohmann::json::exception& e) {
        return Result<nlohmann::json>::error(std::string("bad answer: ") + e.what());
    }
}

Result<nlohmann::json> DpdockdInstance::call(const std::string& cmd, const nlohmann::json& args) const {
    auto r = request(cmd, args);
    if (!r) return r;
    if (!r->value("ok", false)) return Result<nlohmann::json>::error(r->value("error", r->dump()));
    return (*r)["result"];
}

Result<nlohmann::json> DpdockdInstance::observable_state() const {
    auto networks = call("network.ls");
    if (!networks) return networks;
    auto containers = call("container.ps");
    if (!containers) return containers;
    return nlohmann::json{{"networks", *networks}, {"containers", *containers}};
}

std::pair<int, std::string> DpdockdInstance::cli(const std::string& args) const {
    const std::string out_path = dir_ + "/cli.out";
    const int rc = shell(std::string(DPDOCK_CLI_PATH) + " --socket " + shell_quote(socket_) + " " + args + " >" +
                         shell_quote(out_path) + " 2>&1");
    return {rc, read_file(out_path)};
}

std::string DpdockdInstance::cli_expect(const std::string& args, int rc) const {
    auto [code, out] = cli(args);
    if (code != rc) {
        ADD_FAILURE() << "dpdock " << args << ": exit code " << code << " (expected " << rc << ")\n" << out;
    }
    return out;
}

Status DpdockdInstance::stop(int signal, std::chrono::milliseconds timeout) {
    if (!process_ || !process_->running()) return Status::error("dpdockd is not running");
    if (auto st = process_->send_signal(signal); !st) return st;
    auto code = process_->wait_for_exit(timeout);
    if (!code) return Status::error(code.message() + "; log:\n" + log());
    if (signal != SIGKILL && *code != 0) return Status::error("exit code " + std::to_string(*code) + "; log:\n" + log());
    return {};
}

std::string DpdockdInstance::log() const { return read_file(log_); }

std::optional<nlohmann::json> DpdockdInstance::port_stats(const std::string& owner) const {
    auto stats = call("stats.show");
    if (!stats) return std::nullopt;
    for (const auto& p : (*stats)["ports"]) {
        if (p["name"] == owner) return p;
    }
    return std::nullopt;
}

std::uint64_t DpdockdInstance::drops(const std::string& reason) const {
    auto stats = call("stats.show");
    if (!stats) {
        ADD_FAILURE() << "stats.show: " << stats.message();
        return 0;
    }
    const auto& drops = (*stats)["drops"];
    if (!drops.contains(reason)) {
        ADD_FAILURE() << "no drop reason '" << reason << "' in " << drops.dump();
        return 0;
    }
    return drops[reason].get<std::uint64_t>();
}

std::string container_yaml(const std::string& name, const std::string& netns_path, const std::string& networks,
                           const std::string& method) {
    return "  - name: " + name + "\n    netns: " + netns_path + "\n    method: " + method + "\n    networks: " +
           networks + "\n";
}

}  // namespace dpdock::test
