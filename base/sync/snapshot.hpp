// Snapshot<T>: read-mostly state behind one atomic pointer.
// The control thread builds a complete new T and publishes it (release store);
// workers load the pointer once per burst (acquire) and never lock. The old T
// is freed only after an RCU grace period, so a worker still using it is safe.
// Only the control thread calls publish(); any thread may call read().
#pragma once

#include <atomic>
#include <memory>

#include "base/sync/rcu.hpp"

namespace dpdock::sync {

template <typename T>
class Snapshot {
public:
    explicit Snapshot(Rcu& rcu) : rcu_(rcu) {}
    ~Snapshot() { delete current_.load(std::memory_order_relaxed); }
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

    const T* read() const { return current_.load(std::memory_order_acquire); }

    // Publishes `next` and frees the previous snapshot after a grace period.
    // Blocks the control thread for that grace period (microseconds while
    // workers poll; immediate when they are offline).
    void publish(std::unique_ptr<const T> next) {
        const T* old = current_.exchange(next.release(), std::memory_order_acq_rel);
        rcu_.synchronize();
        delete old;
    }

private:
    Rcu& rcu_;
    std::atomic<const T*> current_{nullptr};
};

}  // namespace dpdock::sync
