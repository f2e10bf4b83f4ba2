// The worker lcore loop: rx burst from each assigned port, the pipeline,
// flush tx buffers, report a quiescent state (the only place that does), and
// when idle optionally sleep (offline for RCU while asleep). No locks,
// allocation or syscalls while packets flow; the idle sleep happens only
// after a run of empty polls.
#pragma once

#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// Entry point for rte_eal_remote_launch; arg is a WorkerContext*.
int worker_main(void* arg);

}  // namespace dpdock::dataplane
