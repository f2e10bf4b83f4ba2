#include "base/sync/rcu.hpp"

#include <cstring>

#include <rte_malloc.h>

namespace dpdock::sync {

Result<std::unique_ptr<Rcu>> Rcu::create(unsigned max_readers) {
    const size_t size = rte_rcu_qsbr_get_memsize(max_readers);
    auto* qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("dpdock_rcu", size, RTE_CACHE_LINE_SIZE));
    if (qsbr == nullptr) return Result<std::unique_ptr<Rcu>>::error("cannot allocate the RCU variable");
    if (rte_rcu_qsbr_init(qsbr, max_readers) != 0) {
        rte_free(qsbr);
        return Result<std::unique_ptr<Rcu>>::error("rte_rcu_qsbr_init failed");
    }
    return std::unique_ptr<Rcu>(new Rcu(qsbr));
}

Rcu::~Rcu() { rte_free(qsbr_); }

}  // namespace dpdock::sync
