#include "dataplane/spread_rings.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>

namespace dpdock::dataplane {

Result<std::unique_ptr<SpreadRings>> SpreadRings::create(const std::string& prefix, unsigned workers, int socket,
                                                         unsigned size) {
    using R = Result<std::unique_ptr<SpreadRings>>;
    std::unique_ptr<SpreadRings> rings(new SpreadRings());
    rings->workers_ = workers;
    rings->rings_.assign(std::size_t{workers} * workers, nullptr);
    for (unsigned from = 0; from < workers; ++from) {
        for (unsigned to = 0; to < workers; ++to) {
            if (from == to) continue;
            const std::string name = prefix + std::to_string(from) + "_" + std::to_string(to);
            // RING_F_EXACT_SZ: `size` usable slots (a power of two holds one fewer).
            rte_ring* r =
                rte_ring_create(name.c_str(), size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
            if (r == nullptr) return R::error("spread ring " + name + ": " + rte_strerror(rte_errno));
            rings->rings_[from * workers + to] = r;
        }
    }
    return rings;
}

SpreadRings::~SpreadRings() {
    for (rte_ring* r : rings_) {
        if (r == nullptr) continue;
        void* m = nullptr;
        while (rte_ring_sc_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
    }
}

}  // namespace dpdock::dataplane
