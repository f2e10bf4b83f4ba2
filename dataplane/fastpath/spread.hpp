// Flow spreading: several workers share the packets of one port. The worker
// that polls a port parses the burst (classify_stage), keeps the flows it owns
// and hands the others to their owner through the SpreadRings ring (from this
// worker, to the owner): SP/SC, bounded, full -> drop(spread_full). The owner
// takes them beside its own rx and runs the rest of the pipeline on them as
// if it had received them (process_classified), so one flow is always
// forwarded by one worker, in the order it arrived.
// Owner: IPv4/IPv6 by the flow hash parse computed (the 5-tuple; a fragment's
// only addresses and protocol, so every fragment of a datagram meets its
// first in one worker's FragmentTable); anything else (ARP) by the port's
// home worker (the uplink's neighbour table has one writer: the uplink's home).
// Worker code: no locks, no allocation; the rings carry mbufs and their
// PacketMeta (the ring's release/acquire hands both over).
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// After classify_stage on a burst of one port: hands the packets other
// workers own to them, compacts the rest; returns how many are left.
std::uint16_t spread_stage(WorkerContext& ctx, const ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n);

// Takes up to a burst from each other worker's ring to this one and forwards
// them; returns how many were taken.
unsigned take_spread(WorkerContext& ctx, const ForwardingSnapshot& snap, std::uint64_t now);

// True when another worker has handed this one packets not taken yet (its
// last look before an idle wait, doorbells.hpp).
bool spread_waiting(const WorkerContext& ctx);

}  // namespace dpdock::dataplane
