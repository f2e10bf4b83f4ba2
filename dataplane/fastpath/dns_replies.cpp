// send_dns_replies: the way back of the embedded DNS. See stages.hpp.
// The replies ring is shared by every worker (multi-consumer): any worker may
// send on any port, each through its own tx queue.
#include <rte_ring.h>

#include "dataplane/fastpath/stages.hpp"
#include "dns/fastpath/dns_punt.hpp"

namespace dpdock::dataplane {

void send_dns_replies(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap) {
    rte_mbuf* answers[32];
    const unsigned n = rte_ring_mc_dequeue_burst(ctx.dns->replies, reinterpret_cast<void**>(answers), 32, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = answers[i];
        const PacketMeta& meta = packet_meta(m);
        if (!snap.port_in_network(meta.ingress_port, meta.network)) {
            drop_packet(ctx, m, DropReason::PortGone);
        } else {
            ctx.tx.send(meta.ingress_port, m);
        }
    }
}

bool dns_replies_waiting(const WorkerContext& ctx) { return ctx.dns != nullptr && rte_ring_count(ctx.dns->replies) != 0; }

}  // namespace dpdock::dataplane
