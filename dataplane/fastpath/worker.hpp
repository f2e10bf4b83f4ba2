// The worker lcore loop: rx burst from each assigned port, the pipeline,
// the packets other workers handed over (spread.hpp) through the pipeline,
// flush tx buffers, report a quiescent state (the only place that does), and
// when idle wait with exponential backoff (idle_backoff.hpp), woken early by
// a packet on a port with a descriptor (idle_wait.hpp; offline for RCU while
// waiting). No locks, allocation or syscalls while packets flow; the idle
// wait happens only after a run of empty polls.
#pragma once

#include <cstdint>

#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// One loop iteration: every assigned rx queue once through the pipeline, tx
// flush, quiescent state. Returns the packets received. The caller must be
// the registered, online RCU reader ctx.index (worker_main, or a benchmark
// driving the same loop).
std::uint64_t worker_poll(WorkerContext& ctx);

// Entry point for rte_eal_remote_launch; arg is a WorkerContext*.
int worker_main(void* arg);

}  // namespace dpdock::dataplane
