// The packet path of one burst, in one function: read pipeline.cpp to know
// where a packet goes. Called by the worker loop for every rx burst.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

void process_burst(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                   std::uint64_t now);

// The pipeline after classify_stage and spread_stage: for a burst of one port
// that this worker owns (its own, or handed over by another worker, spread.hpp).
void process_classified(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                        std::uint16_t n, std::uint64_t now);

}  // namespace dpdock::dataplane
