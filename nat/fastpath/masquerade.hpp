// MASQUERADE on a worker: outbound packets from a network get the host
// address and a host port, replies are translated back. Headers are patched
// in place with incremental checksum updates (RFC 1624); a partial L4
// checksum (PseudoHeaderOnly, from a port with offload metadata) gets its
// pseudo-header patched instead (rewrite.hpp).
// Worker-only code: no locks (beyond Conntrack::create's), allocations or syscalls.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::nat {

// The conntrack key of a packet from its own headers, first fragments
// included (the later ones have none: fragments.hpp recalls their key).
inline std::optional<FlowKey> flow_key_of_headers(rte_mbuf* m, const PacketMeta& meta) {
    if (meta.l3_type != L3Type::Ipv4 || (meta.flags & kFlagL4Valid) == 0) return std::nullopt;
    const auto* ip = header_at<const rte_ipv4_hdr>(m, meta.l3_offset);
    FlowKey k;
    k.src_ip = ip->src_addr;
    k.dst_ip = ip->dst_addr;
    k.proto = meta.l4_proto;
    if (meta.l4_proto == IPPROTO_TCP || meta.l4_proto == IPPROTO_UDP) {
        // TCP and UDP headers both start with the two ports.
        const auto* udp = header_at<const rte_udp_hdr>(m, meta.l4_offset);
        k.src_port = udp->src_port;
        k.dst_port = udp->dst_port;
        return k;
    }
    if (meta.l4_proto != IPPROTO_ICMP) return std::nullopt;
    const auto* icmp = header_at<const rte_icmp_hdr>(m, meta.l4_offset);
    if (icmp->icmp_code != 0) return std::nullopt;
    if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
        k.src_port = icmp->icmp_ident;
    } else if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
        k.dst_port = icmp->icmp_ident;
    } else {
        return std::nullopt;
    }
    return k;
}

// The conntrack key of a TCP, UDP or ICMP echo (request or reply) packet;
// nullopt for anything NAT does not translate (other protocols, fragments,
// truncated L4 headers).
inline std::optional<FlowKey> flow_key_of(rte_mbuf* m, const PacketMeta& meta) {
    if ((meta.flags & kFlagFragment) != 0) return std::nullopt;
    return flow_key_of_headers(m, meta);
}

// A packet's conntrack key and the entry it belongs to, in either direction.
// Looked up once per packet by the stage, then handed to whichever
// translation applies (MASQUERADE or a published port), so no packet pays
// for two hash lookups.
struct Tracked {
    std::optional<FlowKey> key;  // nullopt: nothing NAT translates (see flow_key_of)
    Entry* entry = nullptr;      // nullptr: no flow yet
    Direction dir = Direction::Original;
};
Tracked look_up(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta);

// Translates a packet leaving through the uplink: source = `host_ip` (wire
// order) and the flow's host port, creating the flow on its first packet.
// nullopt when translated, else why it must be dropped. ICMP errors about a
// flow's replies are translated inner header included (icmp_translate.hpp).
std::optional<DropReason> masquerade_outbound(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta,
                                              const Tracked& t, std::uint32_t host_ip, std::uint64_t now);

// A packet that arrived on the uplink: when it answers a tracked flow, its
// destination becomes the container's address and port and the flow's entry
// is returned (for the container's MAC and network); else nullptr, untouched.
// ICMP errors about a flow are translated inner header included (icmp_translate.hpp).
const Entry* masquerade_inbound(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta, const Tracked& t,
                                std::uint64_t now);

}  // namespace dpdock::nat
