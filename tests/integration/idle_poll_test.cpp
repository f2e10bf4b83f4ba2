// The idle worker's poll window (dataplane idle-poll-us, fastpath/idle_backoff.hpp):
// after a packet the worker keeps polling that long before its first sleep,
// so the next packet of a light exchange finds it awake instead of waking it
// through its port's socket (a cross-CPU wake-up: bench/README.md, "Paced
// request/response"). Asserted on the worker's wait counters, not on times.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");

std::uint64_t idle_counter(DpdockdInstance& d, const char* key) {
    auto stats = d.call("stats.show");
    EXPECT_TRUE(stats.ok()) << stats.message();
    return stats.ok() ? (*stats)["workers"][0]["idle"][key].get<std::uint64_t>() : 0;
}

// Pings 20 ms apart inside a 300 ms window: the worker never sleeps between
// them (at most once before the first, while the ping process starts); with
// the old window of 256 empty polls (about 1 ms) each ping woke it from a
// sleep. Once they stop, the window passes and the worker sleeps again.
TEST(IdlePollTest, AWorkerPollsThroughItsPollWindowAndSleepsAfterIt) {
    const Netns c1 = make_netns("c1"), c2 = make_netns("c2");
    auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 300000\n  idle-sleep-max-us: 300000\n"
                                    "  idle-poll-us: 300000\ncontainers:\n" +
                                    container_yaml("c1", c1.path(), "[bridge]") +
                                    container_yaml("c2", c2.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(c1, kC2, 2)) << d->log();
    ASSERT_TRUE(d->call("stats.clear").ok());
    const std::string out = c1.exec_output("ping -n -q -c 20 -i 0.02 -W 2 " + kC2.to_string());
    EXPECT_NE(out.find(" 20 received"), std::string::npos) << out;
    EXPECT_LE(idle_counter(*d, "waits"), 1u);
    EXPECT_LE(idle_counter(*d, "fd_wakes"), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_GE(idle_counter(*d, "waits"), 1u);  // slept after the window (300 ms sleeps)
}

}  // namespace
}  // namespace dpdock::test
