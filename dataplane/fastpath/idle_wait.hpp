// The idle worker's wait (worker.cpp): ppoll() on the descriptors of the rx
// queues it polls that have one (kernel ports' sockets, TAPs' queues), for at
// most the backoff's sleep (idle_backoff.hpp). A packet on such a queue wakes
// the worker at once; sources without a descriptor (memif and ring ports,
// other workers' punt rings, DNS answers, packets waiting for ARP) are looked
// at when the sleep ends, as before. The list is copied from the snapshot
// while the worker is still online for RCU (the snapshot may be freed while
// it waits); a descriptor closed meanwhile (its port removed after the grace
// period) costs at most a wait to the timeout or a spurious wake.
// The one system call of the worker besides its kernel ports' I/O.
#pragma once

#include <poll.h>

#include <array>
#include <cstdint>

#include "base/sync/counters.hpp"
#include "dataplane/forwarding_snapshot.hpp"

namespace dpdock::dataplane {

struct IdleWaitList {
    std::array<pollfd, sync::kMaxPorts> fds{};  // more wake descriptors than ports: the rest only time out
    unsigned count = 0;
};

// The wake descriptors of worker `worker`'s rx queues in `snap` (none without a snapshot).
void collect_wake_fds(const ForwardingSnapshot* snap, unsigned worker, IdleWaitList& out);

// Waits until a descriptor of `list` is readable or `timeout_us` passed.
// True: a descriptor ended the wait.
bool idle_wait(IdleWaitList& list, std::uint32_t timeout_us);

}  // namespace dpdock::dataplane
