#include "dataplane/fastpath/idle_wait.hpp"

#include <ctime>

namespace dpdock::dataplane {

void collect_wake_fds(const ForwardingSnapshot* snap, unsigned worker, int doorbell_fd, IdleWaitList& out) {
    out.count = 0;
    if (doorbell_fd >= 0) out.fds[out.count++] = pollfd{doorbell_fd, POLLIN, 0};
    if (snap == nullptr || worker >= snap->rx_queues.size()) return;
    for (const RxQueue& rxq : snap->rx_queues[worker]) {
        if (rxq.wake_fd < 0 || out.count == out.fds.size()) continue;
        out.fds[out.count++] = pollfd{rxq.wake_fd, POLLIN, 0};
    }
}

bool idle_wait(IdleWaitList& list, std::uint32_t timeout_us) {
    const timespec timeout{static_cast<time_t>(timeout_us / 1000000), static_cast<long>(timeout_us % 1000000) * 1000};
    // EINTR and the like end the wait early, which an idle worker can afford.
    return ppoll(list.fds.data(), list.count, &timeout, nullptr) > 0;
}

}  // namespace dpdock::dataplane
