// A doorbell: how a thread that hands another thread work through a ring
// wakes it from its idle wait (a poll on the doorbell's eventfd) instead of
// leaving the work for the wait's timeout. An eventfd and an "asleep" flag:
//   owner:    arm() (asleep, full fence); look at its rings once more; wait
//             (the eventfd among its descriptors); disarm() after the wait.
//   producer: enqueue; ring() (full fence; if asleep, take the flag and write
//             the eventfd: of a burst of producers only the first writes).
// Either the owner's last look sees the work or a producer sees the flag, so
// no wake is lost (a producer that finds the flag taken by another knows the
// owner is being woken, and the owner looks at every ring again before its
// next wait); a busy owner's doorbell is never written (no system call for a
// producer while the owner polls). Users: the workers' (dataplane/
// doorbells.hpp) and the DNS thread's (dns/dns_service.hpp).
#pragma once

#include <atomic>

#include "base/util/status.hpp"

namespace dpdock::sync {

class alignas(64) Doorbell {  // its own cache line: producers read it every burst
public:
    Doorbell() = default;
    ~Doorbell();
    Doorbell(const Doorbell&) = delete;
    Doorbell& operator=(const Doorbell&) = delete;

    // Makes the eventfd; an error when the kernel gives none.
    Status open();
    // The eventfd the owner waits on (< 0 before open()).
    int fd() const { return fd_; }

    // Owner, before its last look at its rings and the wait.
    void arm() {
        asleep_.store(true, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    // Owner, after the wait; `rung`: the eventfd ended the wait (it is read
    // empty, so the next wait blocks again).
    void disarm(bool rung);

    // Producer, after its enqueue onto a ring the owner consumes.
    void ring() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (asleep_.load(std::memory_order_relaxed) && asleep_.exchange(false, std::memory_order_relaxed)) wake();
    }

private:
    void wake();
    std::atomic<bool> asleep_{false};
    int fd_ = -1;
};

}  // namespace dpdock::sync
