// fit_to_mtu: egress segmentation and IPv4 fragmentation. See fragment.hpp.
#include "dataplane/fastpath/fragment.hpp"

#include <algorithm>
#include <cstring>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "base/packet/packet_meta.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint32_t kMaxL2Header = sizeof(rte_ether_hdr) + 2 * sizeof(rte_vlan_hdr);

bool is_ipv4(const rte_mbuf* m, std::uint32_t l3_offset) {
    if (l3_offset < sizeof(rte_ether_hdr) || l3_offset > kMaxL2Header ||
        rte_pktmbuf_data_len(m) < l3_offset + sizeof(rte_ipv4_hdr)) {
        return false;
    }
    rte_be16_t type;
    std::memcpy(&type, rte_pktmbuf_mtod_offset(m, const std::uint8_t*, l3_offset - sizeof type), sizeof type);
    return type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
           (*rte_pktmbuf_mtod_offset(m, const std::uint8_t*, l3_offset) >> 4) == 4;
}

// What the piece carries of its packet: the metadata and the ingress port
// (counters and drops are by ingress port).
void inherit(rte_mbuf* piece, std::uint16_t port, const PacketMeta& meta) {
    packet_meta(piece) = meta;
    piece->port = port;
}

// Cuts `p` (an IPv4 datagram above `mtu`) into fragments in `out` and frees
// it. 0: dropped (mtu_exceeded).
unsigned fragment(WorkerContext& ctx, rte_mbuf* p, std::uint32_t l3_offset, std::uint32_t mtu, const PacketMeta& meta,
                  rte_mbuf** out, unsigned room) {
    if (!is_ipv4(p, l3_offset) || room == 0 || ctx.indirect_pool == nullptr) {
        drop_packet(ctx, p, DropReason::MtuExceeded);
        return 0;
    }
    std::uint8_t l2[kMaxL2Header];
    std::memcpy(l2, rte_pktmbuf_mtod(p, const std::uint8_t*), l3_offset);
    const std::uint32_t total = rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(p, const rte_ipv4_hdr*, l3_offset)->total_length);
    // rte_ip_frag cuts an IPv4 datagram without link header or padding.
    rte_pktmbuf_adj(p, static_cast<std::uint16_t>(l3_offset));
    if (rte_pktmbuf_pkt_len(p) > total && rte_pktmbuf_trim(p, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(p) - total)) != 0) {
        drop_packet(ctx, p, DropReason::MtuExceeded);
        return 0;
    }
    const int n = rte_ipv4_fragment_packet(p, out, static_cast<std::uint16_t>(room),
                                           static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu, UINT16_MAX)),
                                           ctx.pool, ctx.indirect_pool);
    if (n <= 0) {
        drop_packet(ctx, p, DropReason::MtuExceeded);
        return 0;
    }
    PacketMeta piece_meta = meta;
    piece_meta.flags |= kFlagFragment;
    for (int i = 0; i < n; ++i) {
        rte_mbuf* f = out[i];
        auto* ip = rte_pktmbuf_mtod(f, rte_ipv4_hdr*);
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        // A fresh header mbuf: its headroom takes the link header (and later VXLAN's).
        std::memcpy(rte_pktmbuf_prepend(f, static_cast<std::uint16_t>(l3_offset)), l2, l3_offset);
        inherit(f, p->port, piece_meta);
        packet_meta(f).l3_payload =
            static_cast<std::uint16_t>(rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip));
    }
    rte_pktmbuf_free(p);  // the fragments hold references to its payload
    sync::bump(ctx.counters->fragmented);
    sync::bump(ctx.counters->fragments_made, static_cast<std::uint64_t>(n));
    return static_cast<unsigned>(n);
}

}  // namespace

unsigned fit_to_mtu(WorkerContext& ctx, rte_mbuf* m, std::uint32_t l3_offset, std::uint32_t mtu, bool takes_offloads,
                    rte_mbuf** out) {
    const PacketMeta meta = packet_meta(m);
    const std::uint16_t port = m->port;  // `m` may be gone once segmented
    rte_mbuf* pieces[kMaxEgressPieces];
    unsigned n = 1;
    pieces[0] = m;
    if (has_tx_offload(m)) {
        const bool whole = takes_offloads && is_ipv4(m, l3_offset) &&
                           egress_ipv4_length(m, rte_pktmbuf_pkt_len(m) - l3_offset) <= mtu;
        if (!whole) {
            n = resolve_tx_offload({ctx.pool, ctx.indirect_pool}, *ctx.counters, m, pieces);
            if (n == 0) {
                drop_packet(ctx, m, DropReason::OffloadFailed);
                return 0;
            }
        } else {
            out[0] = m;
            return 1;
        }
    }
    unsigned count = 0;
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* p = pieces[i];
        if (p != m) inherit(p, port, meta);
        if (rte_pktmbuf_pkt_len(p) <= l3_offset + mtu) {
            out[count++] = p;
            continue;
        }
        const bool fits = is_ipv4(p, l3_offset) &&
                          rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(p, const rte_ipv4_hdr*, l3_offset)->total_length) <= mtu;
        if (fits) {  // Ethernet padding, not payload
            out[count++] = p;
            continue;
        }
        count += fragment(ctx, p, l3_offset, mtu, meta, out + count, kMaxEgressPieces - count);
    }
    return count;
}

}  // namespace dpdock::dataplane
