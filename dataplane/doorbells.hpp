// Doorbells: one per worker, so that whoever hands a worker packets through a
// ring (another worker's spread ring, every worker's punt ring for the host
// port's worker) can wake it from its idle wait (fastpath/idle_wait.hpp)
// instead of leaving the packets for the wait's timeout (up to
// idle-sleep-max-us, 1 ms by default; the whole sleep with a long fixed one).
// Each is an eventfd in the worker's ppoll set and an "asleep" flag:
//   owner:    arm() (asleep, full fence); look at its rings once more; wait;
//             disarm() after the wait.
//   producer: enqueue; ring() (full fence; if asleep, take the flag and write
//             the eventfd: of a burst of punts only the first writes).
// Either the owner's last look sees the packets or a producer sees the flag,
// so no wake is lost (a producer that finds the flag taken by another knows
// the owner is being woken, and the owner looks at every ring again before
// its next wait); a busy worker's doorbell is never written (no system call
// on the fast path while the owner polls). Created by the control thread
// before the workers start, closed after they stopped. Not used with pure
// polling (idle-sleep-us 0), where nobody sleeps.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/util/status.hpp"

namespace dpdock::dataplane {

class Doorbells {
public:
    static Result<std::unique_ptr<Doorbells>> create(unsigned workers);
    ~Doorbells();
    Doorbells(const Doorbells&) = delete;
    Doorbells& operator=(const Doorbells&) = delete;

    // The eventfd worker `worker` waits on.
    int fd(unsigned worker) const { return bells_[worker].fd; }

    // Owner, before its last look at its rings and the wait.
    void arm(unsigned worker) {
        bells_[worker].asleep.store(true, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    // Owner, after the wait; `rung`: its eventfd ended the wait (it is read
    // empty, so the next wait blocks again).
    void disarm(unsigned worker, bool rung);

    // Producer, after its enqueue onto a ring `worker` consumes.
    void ring(unsigned worker) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        std::atomic<bool>& asleep = bells_[worker].asleep;
        if (asleep.load(std::memory_order_relaxed) && asleep.exchange(false, std::memory_order_relaxed)) wake(worker);
    }

private:
    struct alignas(64) Bell {  // its own cache line: producers read it every burst
        std::atomic<bool> asleep{false};
        int fd = -1;
    };
    Doorbells() = default;
    void wake(unsigned worker);
    std::vector<Bell> bells_;
};

}  // namespace dpdock::dataplane
