// The idle worker's wait: it takes its doorbell and the wake descriptors of
// its own rx queues only, ends at once when one is readable (a real pipe or
// eventfd here), and otherwise times out. A doorbell rings only an armed
// (waiting) worker.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>

#include "dataplane/doorbells.hpp"
#include "dataplane/fastpath/idle_wait.hpp"

namespace dpdock::test {
namespace {

using dataplane::IdleWaitList;

struct Pipe {
    Pipe() { EXPECT_EQ(pipe(fds), 0); }
    ~Pipe() {
        close(fds[0]);
        close(fds[1]);
    }
    int fds[2] = {-1, -1};
};

double waited_ms(IdleWaitList& list, std::uint32_t timeout_us, bool& by_fd) {
    const auto start = std::chrono::steady_clock::now();
    by_fd = dataplane::idle_wait(list, timeout_us);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

TEST(IdleWaitTest, CollectsTheDescriptorsOfItsOwnQueues) {
    dataplane::ForwardingSnapshot snap;
    snap.rx_queues = {{{0, 0, nullptr, 7}, {1, 0, nullptr, -1}, {2, 0, nullptr, 9}}, {{3, 0, nullptr, 11}}};
    IdleWaitList list;
    dataplane::collect_wake_fds(&snap, 0, -1, list);
    ASSERT_EQ(list.count, 2u);
    EXPECT_EQ(list.fds[0].fd, 7);
    EXPECT_EQ(list.fds[1].fd, 9);
    dataplane::collect_wake_fds(&snap, 1, -1, list);
    ASSERT_EQ(list.count, 1u);
    EXPECT_EQ(list.fds[0].fd, 11);
    dataplane::collect_wake_fds(&snap, 2, -1, list);  // a worker with no queues
    EXPECT_EQ(list.count, 0u);
    dataplane::collect_wake_fds(nullptr, 0, -1, list);
    EXPECT_EQ(list.count, 0u);
}

TEST(IdleWaitTest, AReadableDescriptorEndsTheWaitAndNoneTimesOut) {
    Pipe p;
    dataplane::ForwardingSnapshot snap;
    snap.rx_queues = {{{0, 0, nullptr, p.fds[0]}}};
    IdleWaitList list;
    dataplane::collect_wake_fds(&snap, 0, -1, list);
    bool by_fd = true;
    EXPECT_GE(waited_ms(list, 20000, by_fd), 15.0);  // nothing to read: the whole 20 ms
    EXPECT_FALSE(by_fd);
    ASSERT_EQ(write(p.fds[1], "x", 1), 1);
    EXPECT_LT(waited_ms(list, 2000000, by_fd), 1000.0);  // not the 2 s
    EXPECT_TRUE(by_fd);
    IdleWaitList none;  // no descriptors: a plain timed sleep
    EXPECT_GE(waited_ms(none, 5000, by_fd), 4.0);
    EXPECT_FALSE(by_fd);
}

TEST(IdleWaitTest, TheDoorbellComesFirstEvenWithoutQueues) {
    dataplane::ForwardingSnapshot snap;
    snap.rx_queues = {{{0, 0, nullptr, 7}}};
    IdleWaitList list;
    dataplane::collect_wake_fds(&snap, 0, 5, list);
    ASSERT_EQ(list.count, 2u);
    EXPECT_EQ(list.fds[0].fd, 5);
    EXPECT_EQ(list.fds[1].fd, 7);
    dataplane::collect_wake_fds(nullptr, 0, 5, list);
    ASSERT_EQ(list.count, 1u);
    EXPECT_EQ(list.fds[0].fd, 5);
}

TEST(IdleWaitTest, ADoorbellWakesItsArmedWorkerOnly) {
    auto bells = dataplane::Doorbells::create(2);
    ASSERT_TRUE(bells.ok()) << bells.message();
    dataplane::Doorbells& d = **bells;
    IdleWaitList list;
    bool by_fd = true;
    // Worker 0 polls (not armed): a producer's ring writes nothing, so the
    // wait that follows sleeps its whole timeout.
    d.ring(0);
    dataplane::collect_wake_fds(nullptr, 0, d.fd(0), list);
    EXPECT_GE(waited_ms(list, 20000, by_fd), 15.0);
    EXPECT_FALSE(by_fd);
    // Armed: the ring ends the wait at once, and only worker 0's.
    d.arm(0);
    d.ring(0);
    EXPECT_LT(waited_ms(list, 2000000, by_fd), 1000.0);
    EXPECT_TRUE(by_fd);
    EXPECT_TRUE(dataplane::doorbell_rung(list, d.fd(0)));
    IdleWaitList other;
    dataplane::collect_wake_fds(nullptr, 1, d.fd(1), other);
    EXPECT_GE(waited_ms(other, 20000, by_fd), 15.0);
    EXPECT_FALSE(by_fd);
    // A second producer finds the flag taken: no second write (the owner is
    // already being woken); the eventfd counts one.
    d.ring(0);
    std::uint64_t count = 0;
    ASSERT_EQ(read(d.fd(0), &count, sizeof count), static_cast<ssize_t>(sizeof count));
    EXPECT_EQ(count, 1u);
    // Disarming leaves the doorbell empty: the next wait sleeps again.
    d.arm(0);
    d.ring(0);
    d.disarm(0, true);
    EXPECT_GE(waited_ms(list, 20000, by_fd), 15.0);
    EXPECT_FALSE(by_fd);
    EXPECT_FALSE(dataplane::doorbell_rung(list, d.fd(0)));
}

}  // namespace
}  // namespace dpdock::test
