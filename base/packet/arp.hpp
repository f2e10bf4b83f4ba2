// ARP questions several stages ask of a parsed frame (the bridge: is this
// the gateway's ARP? the gateway and ARP suppression: answer it).
// Header-only, worker-safe.
#pragma once

#include <rte_arp.h>
#include <rte_mbuf.h>

#include "base/packet/headers.hpp"
#include "base/packet/net_types.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock {

// True for an ARP request (broadcast or unicast) whose target is `ip`.
inline bool is_arp_request_for(const rte_mbuf* m, const PacketMeta& meta, Ipv4Address ip) {
    if (meta.l3_type != L3Type::Arp) return false;
    const auto* arp = header_at<const rte_arp_hdr>(m, meta.l3_offset);
    return arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) && arp->arp_data.arp_tip == ip.be().raw();
}

}  // namespace dpdock
