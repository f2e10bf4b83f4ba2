// The idle worker's wait (worker.cpp): ppoll() on its doorbell (packets other
// workers or the DNS thread handed it: doorbells.hpp) and on the descriptors of the rx queues it
// polls that have one (kernel ports' sockets, TAPs' queues), for at most the
// backoff's sleep (idle_backoff.hpp). A packet on such a queue or a ring of
// the doorbell wakes the worker at once; sources without a descriptor (memif
// and ring ports, packets waiting for ARP) are looked at when the
// sleep ends. The list is copied from the snapshot
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
    // The doorbell first, then the rx queues' descriptors; more of those than
    // fit only time out.
    std::array<pollfd, 1 + sync::kMaxPorts> fds{};
    unsigned count = 0;
};

// `doorbell_fd` (none if < 0) and the wake descriptors of worker `worker`'s rx
// queues in `snap` (none without a snapshot).
void collect_wake_fds(const ForwardingSnapshot* snap, unsigned worker, int doorbell_fd, IdleWaitList& out);

// Waits until a descriptor of `list` is readable or `timeout_us` passed.
// True: a descriptor ended the wait.
bool idle_wait(IdleWaitList& list, std::uint32_t timeout_us);

// After idle_wait: the doorbell collected first was rung.
inline bool doorbell_rung(const IdleWaitList& list, int doorbell_fd) {
    return doorbell_fd >= 0 && list.count != 0 && (list.fds[0].revents & POLLIN) != 0;
}

}  // namespace dpdock::dataplane
