#include "exception/punt_rings.hpp"

#include <rte_errno.h>

namespace dpdock::exception {

Result<std::unique_ptr<PuntRings>> PuntRings::create(const std::string& prefix, unsigned workers, int socket,
                                                     unsigned size) {
    using R = Result<std::unique_ptr<PuntRings>>;
    std::unique_ptr<PuntRings> rings(new PuntRings());
    for (unsigned i = 0; i < workers; ++i) {
        const std::string name = prefix + std::to_string(i);
        // RING_F_EXACT_SZ: `size` usable slots (a power of two holds one fewer).
        rte_ring* r = rte_ring_create(name.c_str(), size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
        if (r == nullptr) return R::error("punt ring " + name + ": " + rte_strerror(rte_errno));
        rings->rings_.emplace_back(r);
    }
    return rings;
}

PuntRings::~PuntRings() {
    for (PuntRing& r : rings_) {
        rte_mbuf* m = nullptr;
        while (r.take(&m, 1) == 1) rte_pktmbuf_free(m);
        rte_ring_free(r.ring());
    }
}

}  // namespace dpdock::exception
