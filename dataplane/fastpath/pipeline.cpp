#include "dataplane/fastpath/pipeline.hpp"

#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/spread.hpp"
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {

void process_burst(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                   std::uint64_t now) {
    // 1. Parse to L3; malformed frames and frames from ports outside any network stop here.
    n = classify_stage(ctx, snap, pkts, n);
    // Flows another worker owns go to it (several workers share one port); it runs the rest on them.
    if (ctx.spread != nullptr) n = spread_stage(ctx, snap, pkts, n);
    process_classified(ctx, snap, pkts, n, now);
}

void process_classified(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                        std::uint16_t n, std::uint64_t now) {
    if (n == 0) return;
    // A burst comes from one rx queue of one port. From the uplink: the outside world.
    // (classify_stage parsed its bursts whole.)
    if (snap.ports[pkts[0]->port].role == dataplane::PortRole::Uplink) {
        // VXLAN for this host leaves the burst decapsulated; the rest is the uplink's.
        rte_mbuf* inner[kMaxBurst];
        std::uint16_t n_inner = 0;
        n = overlay_decap_stage(ctx, snap, pkts, n, inner, n_inner, now);
        uplink_stage(ctx, snap, pkts, n, now);
        // Inner frames are bridged in their overlay network like a local port's.
        // The gateway is each host's own: a remote frame for it is not served here.
        n_inner = bridge_stage(ctx, snap, inner, n_inner, now);
        for (std::uint16_t i = 0; i < n_inner; ++i) drop_packet(ctx, inner[i], DropReason::NotServed);
        return;
    }
    // From the host's kernel (exception interface): to containers or out of the uplink.
    if (snap.ports[pkts[0]->port].role == dataplane::PortRole::Host) {
        host_stage(ctx, snap, pkts, n, now);
        return;
    }
    // 2. Bridge: learn, then forward or flood inside the packet's own network.
    // It reads L2/L3 only (what goes to a VTEP it parses to L4 for the flow hash).
    n = bridge_stage(ctx, snap, pkts, n, now);
    // Usually nothing is left (every frame bridged): the stages below then
    // have no work, and a busy loop iteration would pay their calls.
    if (n == 0) return;
    // The stages after the bridge read L4 (NAT, DNAT, DNS, ICMP, fragments).
    n = parse_l4_stage(ctx, pkts, n);
    // 3. What is left was addressed to a gateway: ARP and ping for the gateway are answered.
    n = gateway_stage(ctx, snap, pkts, n, now);
    // 4. IPv4 for other destinations: out through the uplink, or dropped.
    route_stage(ctx, snap, pkts, n, now);
}

}  // namespace dpdock::dataplane
