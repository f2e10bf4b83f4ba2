// flood_packet: replication inside one network. See stages.hpp.
//
// Copies share the one mbuf through its reference count: every PMD we send to
// only reads the data, and each tx completion drops one reference. A stage
// that must modify a flooded packet (VXLAN encap per peer) has to copy first.
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {

void flood_packet(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m) {
    const PacketMeta& meta = packet_meta(m);
    const auto& members = snap.networks[meta.network].members;
    const PortId ingress = meta.ingress_port;
    const auto copies = static_cast<std::uint16_t>(members.size() - (snap.port_in_network(ingress, meta.network) ? 1 : 0));
    if (copies == 0) {
        drop_packet(ctx, m, DropReason::FloodEmpty);
        return;
    }
    sync::bump(ctx.counters->flooded);
    rte_mbuf_refcnt_update(m, static_cast<std::int16_t>(copies - 1));
    for (PortId port : members) {
        if (port != ingress) ctx.tx.send(port, m);
    }
}

}  // namespace dpdock::dataplane
