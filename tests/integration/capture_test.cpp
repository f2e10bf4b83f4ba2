// dpdock capture (issue 15): a capture of a container's port while it pings
// its gateway writes a pcapng file that tcpdump reads back, with the echo
// requests in it; bad requests are refused with a reason.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

// How many lines of `text` contain `what`.
std::size_t count_lines(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(CaptureTest, APingIsCapturedToAPcapngThatTcpdumpReads) {
    ASSERT_EQ(shell("command -v tcpdump >/dev/null"), 0) << "tcpdump is missing (scripts/install-deps.sh installs it)";
    Netns c1 = make_netns("c1");
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    const std::string file = d->dir() + "/ping.pcapng";

    std::string out;
    std::thread capture([&] { out = d->cli_expect("capture c1/bridge -w " + file + " -c 1000 --duration 3"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_TRUE(ping(c1, *Ipv4Address::parse("172.17.0.1"), 3));
    capture.join();
    EXPECT_NE(out.find("packets captured to " + file), std::string::npos) << out;

    const std::string read = shell_output("tcpdump -nn -r " + file + " 2>&1");
    EXPECT_EQ(count_lines(read, "172.17.0.2 > 172.17.0.1: ICMP echo request"), 3u) << read;
    EXPECT_EQ(count_lines(read, "ICMP echo reply"), 0u) << "only what the port received: " << read;

    auto status = d->call("capture.status");
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_FALSE((*status)["running"].get<bool>());
    EXPECT_GE((*status)["packets"].get<std::uint64_t>(), 3u);

    d->cli_expect("capture nosuchport -w " + file + " -c 1", 1);
    // The file is opened by root: a symlink there is refused, its target untouched.
    const std::string target = d->dir() + "/precious";
    ASSERT_EQ(shell("echo keep > " + target + " && ln -s " + target + " " + d->dir() + "/link.pcapng"), 0);
    d->cli_expect("capture c1/bridge -w " + d->dir() + "/link.pcapng -c 1", 1);
    EXPECT_EQ(shell_output("cat " + target), "keep\n");
    d->cli_expect("capture -w " + file, 2);  // no end
}

}  // namespace
}  // namespace dpdock::test
