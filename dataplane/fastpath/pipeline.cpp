#include "dataplane/fastpath/pipeline.hpp"

#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {

void process_burst(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                   std::uint64_t now) {
    // 1. Parse once; malformed frames and frames from ports outside any network stop here.
    n = classify_stage(ctx, snap, pkts, n);
    // 2. Bridge: learn, then forward or flood inside the packet's own network.
    n = bridge_stage(ctx, snap, pkts, n, now);
    // 3. What is left was addressed to a gateway: ARP and ping for the gateway are answered.
    n = gateway_stage(ctx, snap, pkts, n);
    // 4. IPv4 for other destinations. Routing between networks and to the
    //    outside is not enabled yet, so nothing routes it.
    for (std::uint16_t i = 0; i < n; ++i) drop_packet(ctx, pkts[i], DropReason::NoRoute);
}

}  // namespace dpdock::dataplane
