// answer_suppressed_arp: ARP answered from the network's known addresses
// instead of flooded to every port and peer. See overlay.hpp.
#include <algorithm>

#include <rte_arp.h>

#include "l3/fastpath/local_reply.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "base/packet/headers.hpp"

namespace dpdock::dataplane {

bool answer_suppressed_arp(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m) {
    const PacketMeta& meta = packet_meta(m);
    const dataplane::NetworkInfo& network = snap.networks[meta.network];
    // Only requests from local ports: a remote host's VTEP does its own suppressing.
    if (!network.arp_suppression || meta.l3_type != L3Type::Arp ||
        !snap.port_in_network(meta.ingress_port, meta.network)) {
        return false;
    }
    const auto* arp = header_at<const rte_arp_hdr>(m, meta.l3_offset);
    if (arp == nullptr || arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST)) return false;
    const Ipv4Address target = Ipv4Address::from_be(Be32::from_raw(arp->arp_data.arp_tip));
    const auto& entries = network.arp_entries;
    auto it = std::lower_bound(entries.begin(), entries.end(), target,
                               [](const dataplane::ArpEntry& e, Ipv4Address ip) { return e.ip < ip; });
    if (it == entries.end() || it->ip != target) return false;
    // A container asking for its own address (duplicate address detection) must see no answer.
    if (arp->arp_data.arp_sip == arp->arp_data.arp_tip) return false;
    if (auto reason = l3::answer_arp(m, meta, it->mac, target)) {
        drop_packet(ctx, m, *reason);
    } else {
        ctx.tx.send(meta.ingress_port, m);
    }
    return true;
}

}  // namespace dpdock::dataplane
