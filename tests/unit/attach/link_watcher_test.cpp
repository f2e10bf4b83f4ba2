// LinkWatcher against real RTM_DELLINK notifications in the test's netns.
// Other tests may add and delete links meanwhile: assertions look only at our names.
#include "control/attach/link_watcher.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::attach {
namespace {

using namespace std::chrono_literals;
using test::shell;
using test::unique_ifname;

struct ScratchLink {
    std::string name = unique_ifname("dpw");
    bool created = shell("ip tuntap add dev " + name + " mode tap") == 0;  // no dummy module everywhere
    ~ScratchLink() { shell("ip link del " + name + " 2>/dev/null"); }
};

bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Drains until `name` shows up (or 5 s pass); everything seen is appended to seen.
bool wait_reported(LinkWatcher& watcher, const std::string& name, std::vector<std::string>& seen) {
    return test::wait_until(
        [&] {
            pollfd p{watcher.fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
            for (auto& link : watcher.drain_deleted()) seen.push_back(std::move(link.name));
            return has(seen, name);
        },
        5000ms, 1ms);
}

TEST(LinkWatcherTest, ReportsDeletedLink) {
    Result<LinkWatcher> watcher = LinkWatcher::open();
    ASSERT_TRUE(watcher.ok()) << watcher.message();
    ScratchLink link;
    ASSERT_TRUE(link.created);
    std::vector<std::string> seen;
    for (auto& l : watcher->drain_deleted()) seen.push_back(std::move(l.name));
    EXPECT_FALSE(has(seen, link.name));  // creation is not a deletion

    ASSERT_EQ(shell("ip link del " + link.name), 0);

    EXPECT_TRUE(wait_reported(*watcher, link.name, seen));
    EXPECT_EQ(std::count(seen.begin(), seen.end(), link.name), 1);
}

// A link re-created under the same name before the deletion is read: the
// report carries the old link's ifindex, so the new one can be told apart.
TEST(LinkWatcherTest, ReportsTheDeletedLinksIfindex) {
    Result<LinkWatcher> watcher = LinkWatcher::open();
    ASSERT_TRUE(watcher.ok()) << watcher.message();
    ScratchLink link;
    ASSERT_TRUE(link.created);
    const int old_index = std::stoi(test::shell_output("cat /sys/class/net/" + link.name + "/ifindex"));
    ASSERT_EQ(shell("ip link del " + link.name + " && ip tuntap add dev " + link.name + " mode tap"), 0);
    const int new_index = std::stoi(test::shell_output("cat /sys/class/net/" + link.name + "/ifindex"));
    ASSERT_NE(old_index, new_index);
    std::vector<DeletedLink> reported;
    ASSERT_TRUE(test::wait_until(
        [&] {
            pollfd p{watcher->fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
            for (auto& l : watcher->drain_deleted()) {
                if (l.name == link.name) reported.push_back(l);
            }
            return !reported.empty();
        },
        5000ms, 1ms));
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0].ifindex, old_index);
}

TEST(LinkWatcherTest, LinkMovedToAnotherNetnsIsNotReported) {
    Result<test::Netns> ns = test::Netns::create("dpwat");
    ASSERT_TRUE(ns.ok()) << ns.message();
    Result<LinkWatcher> watcher = LinkWatcher::open();
    ASSERT_TRUE(watcher.ok()) << watcher.message();
    ScratchLink moved;
    ScratchLink deleted;
    ASSERT_TRUE(moved.created && deleted.created);

    ASSERT_EQ(shell("ip link set " + moved.name + " netns " + ns->name()), 0);
    ASSERT_EQ(shell("ip link del " + deleted.name), 0);

    // Notifications arrive in order: once the deletion is seen, the move was processed too.
    std::vector<std::string> seen;
    ASSERT_TRUE(wait_reported(*watcher, deleted.name, seen));
    EXPECT_FALSE(has(seen, moved.name));
}

TEST(LinkWatcherTest, MovedWatcherKeepsWorking) {
    Result<LinkWatcher> opened = LinkWatcher::open();
    ASSERT_TRUE(opened.ok()) << opened.message();
    LinkWatcher watcher = std::move(*opened);
    ScratchLink link;
    ASSERT_TRUE(link.created);

    ASSERT_EQ(shell("ip link del " + link.name), 0);

    std::vector<std::string> seen;
    EXPECT_TRUE(wait_reported(watcher, link.name, seen));
    EXPECT_FALSE(watcher.take_overrun());
}

}  // namespace
}  // namespace dpdock::attach
