// SpreadRings: the rings through which workers hand each other the packets of
// flows they do not own (dataplane/fastpath/spread.hpp): one SP/SC rte_ring per
// ordered pair (from, to) of distinct workers, so each ring has one producer
// and one consumer and needs no atomics beyond the ring's own. Created when the
// dataplane starts, freed after the workers stopped (packets still queued go
// back to their pool). Created by the control thread; the table is immutable
// while workers run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rte_ring.h>

#include "base/util/status.hpp"

namespace dpdock::dataplane {

// Packets one worker may have waiting for another: a few bursts of a busy
// port; beyond it the owner is not keeping up and the packet is dropped
// (spread_full) rather than making the receiving worker wait.
inline constexpr unsigned kSpreadRingSize = 1024;

class SpreadRings {
public:
    // `prefix` names the rings (prefix + from + "_" + to), unique per process.
    static Result<std::unique_ptr<SpreadRings>> create(const std::string& prefix, unsigned workers, int socket,
                                                       unsigned size = kSpreadRingSize);
    ~SpreadRings();
    SpreadRings(const SpreadRings&) = delete;
    SpreadRings& operator=(const SpreadRings&) = delete;

    unsigned workers() const { return workers_; }
    // The ring from worker `from` to worker `to` (from != to).
    rte_ring* ring(unsigned from, unsigned to) const { return rings_[from * workers_ + to]; }

private:
    SpreadRings() = default;
    unsigned workers_ = 0;
    std::vector<rte_ring*> rings_;  // workers_ x workers_, nullptr on the diagonal
};

}  // namespace dpdock::dataplane
