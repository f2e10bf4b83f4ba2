// PuntRings: the punt ring of every worker (fastpath/punt_ring.hpp), created
// when the dataplane starts and freed when it stops, after the workers have
// stopped: whatever is still queued goes back to its pool. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/util/status.hpp"
#include "exception/fastpath/punt_ring.hpp"

namespace dpdock::exception {

// Packets one worker may have waiting for the kernel. A TCP window's worth of
// segments from a container; beyond it the kernel is not keeping up.
inline constexpr unsigned kPuntRingSize = 1024;

class PuntRings {
public:
    // `prefix` names the rings (prefix + worker index), unique per process.
    static Result<std::unique_ptr<PuntRings>> create(const std::string& prefix, unsigned workers, int socket,
                                                     unsigned size = kPuntRingSize);
    ~PuntRings();  // frees the packets still queued, then the rings
    PuntRings(const PuntRings&) = delete;
    PuntRings& operator=(const PuntRings&) = delete;

    PuntRing& of(unsigned worker) { return rings_[worker]; }
    // Every worker's ring, as the worker that drains them reads them.
    const std::vector<PuntRing>& all() const { return rings_; }

private:
    PuntRings() = default;
    std::vector<PuntRing> rings_;
};

}  // namespace dpdock::exception
