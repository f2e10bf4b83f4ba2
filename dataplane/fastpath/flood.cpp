// flood_packet: replication inside one network. See stages.hpp.
//
// Copies share the one mbuf through its reference count: every PMD we send to
// only reads the data, and each tx completion drops one reference. A stage
// that must modify a flooded packet (VXLAN encap per peer) has to copy first.
#include "dataplane/fastpath/offload_completion.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {

void flood_packet(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m, std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    const auto& members = snap.networks[meta.network].members;
    const PortId ingress = meta.ingress_port;
    const auto copies = static_cast<std::uint16_t>(members.size() - (snap.port_in_network(ingress, meta.network) ? 1 : 0));
    // Remote copies first: they are taken from `m` before local ports share it.
    const unsigned remote = replicate_to_peers(ctx, snap, m, now);
    if (copies == 0) {
        if (remote == 0) {
            drop_packet(ctx, m, DropReason::FloodEmpty);
        } else {
            sync::bump(ctx.counters->flooded);
            rte_pktmbuf_free(m);
        }
        return;
    }
    sync::bump(ctx.counters->flooded);
    rte_mbuf_refcnt_update(m, static_cast<std::int16_t>(copies - 1));
    const bool offloads = (m->ol_flags & kOffloadRequests) != 0;
    for (PortId port : members) {
        if (port == ingress) continue;
        if (!offloads || snap.ports[port].takes_offloads) {
            ctx.tx.send(port, m);
            continue;
        }
        // Finishing the checksum writes to the packet: this port gets its own copy.
        rte_mbuf* copy = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
        if (copy == nullptr) {
            drop_packet(ctx, m, DropReason::OffloadFailed);  // this port's reference
            continue;
        }
        packet_meta(copy) = packet_meta(m);
        rte_pktmbuf_free(m);  // this port's reference
        send_finished(ctx, port, copy);
    }
}

}  // namespace dpdock::dataplane
