// DpdockdInstance: one dpdockd started by a test with its own YAML file,
// control socket and log in a private temp dir; killed (by PID) and cleaned
// up when the test ends, also when it fails. request() speaks the control
// protocol directly; cli() and cli_expect() run the real `dpdock` binary.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/util/status.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {

class DpdockdInstance {
public:
    // Writes `yaml` (its dataplane.socket is set by us) and starts dpdockd
    // with daemon_args added to its command line; returns once the control
    // socket answers, or an error with the log.
    static Result<DpdockdInstance> start(const std::string& yaml, std::vector<std::string> daemon_args = {});
    // start(), with dpdockd inside `host` (`ip netns exec`, which execs it:
    // same pid): what it creates in its own netns (the exception interface
    // dpdock0, its addresses and routes) lands there, not in the test's.
    static Result<DpdockdInstance> start_in(const Netns& host, const std::string& yaml);
    // dpdockd without --config (empty, like dockerd), floating over the CPUs.
    static Result<DpdockdInstance> start_without_config(std::vector<std::string> daemon_args = {});
    // Starts another dpdockd on the same files and arguments (after a crash or stop).
    Status restart();

    DpdockdInstance(DpdockdInstance&&) noexcept = default;
    DpdockdInstance& operator=(DpdockdInstance&&) noexcept = default;
    ~DpdockdInstance();

    // {"ok":..., ...} as the daemon answered, or an error if the socket failed.
    Result<nlohmann::json> request(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) const;
    // result of an ok:true answer; an error carrying the daemon's message otherwise.
    Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) const;
    // {"networks": network.ls, "containers": container.ps}: what a refused
    // request must leave exactly as it was (port ids included).
    Result<nlohmann::json> observable_state() const;
    // Runs `dpdock --socket S ARGS`; returns exit code and output (stdout+stderr).
    std::pair<int, std::string> cli(const std::string& args) const;
    // cli(), and a (non-fatal) test failure naming the command and its output
    // unless it exits `rc`. Returns the output.
    std::string cli_expect(const std::string& args, int rc = 0) const;

    Status stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(20));
    ChildProcess& process() { return *process_; }
    const std::string& socket_path() const { return socket_; }
    const std::string& config_path() const { return config_; }  // "" without --config
    const std::string& dir() const { return dir_; }
    std::string log() const;

    // Counters of one port by owner name ("c1/bridge") from stats.show; nullopt if absent.
    std::optional<nlohmann::json> port_stats(const std::string& owner) const;
    // stats.show's drops of `reason` ("isolated"); a (non-fatal) test failure
    // and 0 when stats.show fails or lacks the reason, so that no lower bound
    // and no "still 0" can pass on an error.
    std::uint64_t drops(const std::string& reason) const;

private:
    DpdockdInstance() = default;
    // yaml_or_none: the deployment file's text, or nullopt for no --config.
    static Result<DpdockdInstance> start_in_new_dir(const std::optional<std::string>& yaml_or_none,
                                                    std::vector<std::string> daemon_args);
    Status launch();

    std::string dir_;
    std::string config_;
    std::string socket_;
    std::string log_;
    std::vector<std::string> daemon_args_;
    std::string netns_;  // run inside this named netns; empty: the test's own
    std::optional<ChildProcess> process_;
};

// A YAML list item for a container on the default bridge network.
std::string container_yaml(const std::string& name, const std::string& netns_path, const std::string& networks,
                           const std::string& method = "veth");

}  // namespace dpdock::test
