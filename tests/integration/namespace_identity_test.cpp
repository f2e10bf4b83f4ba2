// An endpoint belongs to the namespace it was attached in: when the path
// names another namespace (`ip netns del` + add, `docker restart`), the old
// endpoint is detached with a log line and the container can attach again.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <optional>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/socket_util.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");

TEST(NamespaceIdentity, ReplacedNamespaceIsDetachedAndCanAttachAgain) {
    Netns c1 = make_netns("c1");
    Netns c2 = make_netns("c2");
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1.path(), "[bridge]") +
                                    container_yaml("c2", c2.path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(ping(c1, kC2, 1));
    {
        // Something still holds the old namespace (a container's last process,
        // here a file descriptor): its veth lives on, only the path moved.
        const Fd old_ns(::open(c1.path().c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_GE(old_ns.get(), 0);
        const std::string name = c1.path().substr(c1.path().rfind('/') + 1);
        ASSERT_EQ(shell("ip netns del " + name + " && ip netns add " + name), 0);
        const bool gone = wait_until([&] { return !d->port_stats("c1/bridge").has_value(); }, std::chrono::seconds(10));
        EXPECT_TRUE(gone) << d->log();
        EXPECT_NE(d->log().find("was replaced: detaching it from bridge"), std::string::npos) << d->log();
    }
    auto attached = d->call("container.attach", {{"name", "c1"}, {"netns", c1.path()}});
    ASSERT_TRUE(attached.ok()) << attached.message();
    EXPECT_TRUE(ping(c1, kC2, 3)) << d->log();
}

}  // namespace
}  // namespace dpdock::test
