// The worker's half of the embedded DNS: recognise a UDP query to a network's
// gateway at port 53 and hand the packet to the DNS thread (dns/dns_service.hpp)
// through a bounded ring; answers come back through `replies`, which every
// worker drains each loop iteration. Worker code: no locks, no allocation.
// Rings: `queries` is multi-producer (workers) / single-consumer (DNS thread);
// `replies` is single-producer (DNS thread) / multi-consumer (workers). A
// punt rings the DNS thread's doorbell (base/sync/doorbell.hpp) so that an
// idle DNS thread answers at once.
#pragma once

#include <netinet/in.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"
#include "base/sync/doorbell.hpp"

namespace dpdock::dns {

inline constexpr std::uint16_t kDnsPort = 53;

struct DnsRings {
    rte_ring* queries = nullptr;
    rte_ring* replies = nullptr;
    sync::Doorbell* dns_thread = nullptr;  // rung after each punt (none: the thread is not woken)
};

// An unfragmented UDP datagram to port 53 (the caller has checked that it is
// addressed to the gateway).
inline bool is_dns_query(const rte_mbuf* m, const PacketMeta& meta) {
    if (meta.l4_proto != IPPROTO_UDP || (meta.flags & kFlagFragment) != 0 || (meta.flags & kFlagL4Valid) == 0) {
        return false;
    }
    return header_at<const rte_udp_hdr>(m, meta.l4_offset)->dst_port == rte_cpu_to_be_16(kDnsPort);
}

// false: the ring is full; the caller drops the packet (counted).
inline bool punt_query(const DnsRings& rings, rte_mbuf* m) {
    if (rte_ring_mp_enqueue(rings.queries, m) != 0) return false;
    if (rings.dns_thread != nullptr) rings.dns_thread->ring();
    return true;
}

}  // namespace dpdock::dns
