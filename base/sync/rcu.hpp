// The one quiescent-state-based RCU domain of the daemon (rte_rcu_qsbr).
// Readers are worker lcores, identified by their worker index. Workers report
// a quiescent state once per loop iteration (worker.cpp, nowhere else) and go
// offline before an idle sleep. The control thread calls synchronize() after
// unpublishing something and before freeing it.
#pragma once

#include <memory>

#include <rte_rcu_qsbr.h>

#include "base/util/status.hpp"

namespace dpdock::sync {

class Rcu {
public:
    static Result<std::unique_ptr<Rcu>> create(unsigned max_readers);
    ~Rcu();
    Rcu(const Rcu&) = delete;
    Rcu& operator=(const Rcu&) = delete;

    rte_rcu_qsbr* qsbr() const { return qsbr_; }

    // Worker side. register/unregister happen when a worker starts/stops.
    void register_reader(unsigned reader) { rte_rcu_qsbr_thread_register(qsbr_, reader); }
    void unregister_reader(unsigned reader) { rte_rcu_qsbr_thread_unregister(qsbr_, reader); }
    void online(unsigned reader) { rte_rcu_qsbr_thread_online(qsbr_, reader); }
    void offline(unsigned reader) { rte_rcu_qsbr_thread_offline(qsbr_, reader); }
    void quiescent(unsigned reader) { rte_rcu_qsbr_quiescent(qsbr_, reader); }

    // Control side: returns once every online reader has passed a quiescent
    // state, i.e. no reader still holds anything unpublished before the call.
    void synchronize() { rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID); }

private:
    explicit Rcu(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}
    rte_rcu_qsbr* qsbr_;
};

}  // namespace dpdock::sync
