// DPDK telemetry lists dpdock's own commands and serves its counters: the
// stock client (dpdk-telemetry.py, against the daemon's file prefix
// dpdock-<pid>) sees /dpdock/stats and /dpdock/drops, and the packets a ping
// to the host address made are in them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

// One telemetry command through dpdk-telemetry.py; its JSON answer (the line that holds `cmd`).
nlohmann::json telemetry(int pid, const std::string& cmd) {
    const std::string out =
        shell_output("echo '" + cmd + "' | timeout 10 dpdk-telemetry.py -f dpdock-" + std::to_string(pid) + " 2>&1");
    const auto at = out.find("{\"" + cmd + "\"");
    if (at == std::string::npos) {
        ADD_FAILURE() << cmd << ": no answer in\n" << out;
        return {};
    }
    const auto end = out.find('\n', at);
    return nlohmann::json::parse(out.substr(at, end == std::string::npos ? end : end - at), nullptr, false);
}

TEST(TelemetryTest, DpdockCountersAreListedAndServed) {
    if (shell("command -v dpdk-telemetry.py >/dev/null") != 0) GTEST_SKIP() << "dpdk-telemetry.py is not installed";
    auto outside = make_outside("192.168.91");
    ASSERT_TRUE(outside.ok()) << outside.message();
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + outside->uplink_yaml());
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(outside->ns, outside->host_ip, 2)) << d->log();
    const int pid = d->process().pid();

    const auto listed = telemetry(pid, "/");
    ASSERT_TRUE(listed.is_object()) << listed.dump();
    const auto commands = listed["/"].dump();
    EXPECT_NE(commands.find("/dpdock/stats"), std::string::npos) << commands;
    EXPECT_NE(commands.find("/dpdock/drops"), std::string::npos) << commands;

    const auto stats = telemetry(pid, "/dpdock/stats");
    ASSERT_TRUE(stats.is_object()) << stats.dump();
    EXPECT_GE(stats["/dpdock/stats"]["rx_packets"].get<std::uint64_t>(), 2u) << stats.dump();
    EXPECT_GE(stats["/dpdock/stats"]["tx_packets"].get<std::uint64_t>(), 2u) << stats.dump();
    EXPECT_TRUE(stats["/dpdock/stats"].contains("exception_punted")) << stats.dump();

    const auto drops = telemetry(pid, "/dpdock/drops");
    ASSERT_TRUE(drops.is_object()) << drops.dump();
    EXPECT_TRUE(drops["/dpdock/drops"].contains("not_served")) << drops.dump();
    EXPECT_TRUE(drops["/dpdock/drops"].contains("punt_full")) << drops.dump();
}

}  // namespace
}  // namespace dpdock::test
