// Doorbells: one per worker (base/sync/doorbell.hpp), so that whoever hands a
// worker packets through a ring (another worker's spread ring, every worker's
// punt ring for the host port's worker, the DNS thread's replies ring for
// worker 0) can wake it from its idle wait (fastpath/idle_wait.hpp) instead
// of leaving the packets for the wait's timeout (up to idle-sleep-max-us,
// 1 ms by default; the whole sleep with a long fixed one). Created by the
// control thread before the workers and the DNS thread start, closed after
// they stopped. Not used with pure polling (idle-sleep-us 0), where nobody
// sleeps.
#pragma once

#include <memory>

#include "base/sync/doorbell.hpp"
#include "base/util/status.hpp"

namespace dpdock::dataplane {

class Doorbells {
public:
    static Result<std::unique_ptr<Doorbells>> create(unsigned workers);
    Doorbells(const Doorbells&) = delete;
    Doorbells& operator=(const Doorbells&) = delete;

    sync::Doorbell& of(unsigned worker) { return bells_[worker]; }

    // The eventfd worker `worker` waits on.
    int fd(unsigned worker) const { return bells_[worker].fd(); }
    // Owner, before its last look at its rings and the wait.
    void arm(unsigned worker) { bells_[worker].arm(); }
    // Owner, after the wait; `rung`: its eventfd ended the wait.
    void disarm(unsigned worker, bool rung) { bells_[worker].disarm(rung); }
    // Producer, after its enqueue onto a ring `worker` consumes.
    void ring(unsigned worker) { bells_[worker].ring(); }

private:
    Doorbells() = default;
    std::unique_ptr<sync::Doorbell[]> bells_;
};

}  // namespace dpdock::dataplane
