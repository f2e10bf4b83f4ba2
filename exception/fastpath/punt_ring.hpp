// PuntRing: one worker's packets for the host's kernel (the exception
// interface, dpdock0). The worker that produced a packet offers it; the worker
// that polls the exception interface takes it and writes it to the kernel.
// Single producer, single consumer (rte_ring SP/SC), bounded: a full ring
// refuses the packet at once (the caller counts it), so a slow kernel costs
// the fast path a failed enqueue, never a wait. No locks, no allocation.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

namespace dpdock::exception {

class PuntRing {
public:
    PuntRing() = default;
    explicit PuntRing(rte_ring* ring) : ring_(ring) {}

    // Producer (the owning worker): false when the ring is full; the caller
    // still owns `m` then.
    bool offer(rte_mbuf* m) { return rte_ring_sp_enqueue(ring_, m) == 0; }

    // Consumer: up to `max` packets, oldest first.
    unsigned take(rte_mbuf** out, unsigned max) const {
        return rte_ring_sc_dequeue_burst(ring_, reinterpret_cast<void**>(out), max, nullptr);
    }

    bool empty() const { return rte_ring_empty(ring_) != 0; }
    rte_ring* ring() const { return ring_; }

private:
    rte_ring* ring_ = nullptr;
};

}  // namespace dpdock::exception
