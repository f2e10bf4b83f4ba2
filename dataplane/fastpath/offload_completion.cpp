// rte_ipv4/6_udptcp_cksum_mbuf (checksums over chained mbufs) are still
// "experimental" in 22.11.
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/fastpath/offload_completion.hpp"

#include <netinet/in.h>

#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

namespace dpdock::dataplane {
namespace {

// The L4 checksum over the whole packet (its field holds a pseudo-header sum
// or a stale value: it is cleared first), and the IPv4 header checksum.
void finish_checksums(rte_mbuf* m) {
    const std::uint32_t l4 = m->l2_len + m->l3_len;
    const bool tcp = (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM ||
                     (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
    auto set_field = [&](rte_be16_t value) {
        if (tcp) {
            rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, l4)->cksum = value;
        } else {
            rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, l4)->dgram_cksum = value;
        }
    };
    set_field(0);
    if ((m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0) {
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        set_field(rte_ipv4_udptcp_cksum_mbuf(m, ip, static_cast<std::uint16_t>(l4)));
    } else {
        set_field(rte_ipv6_udptcp_cksum_mbuf(m, rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len),
                                             static_cast<std::uint16_t>(l4)));
    }
    m->ol_flags &= ~(kOffloadRequests | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
}

}  // namespace

unsigned finish_offloads(WorkerContext& ctx, rte_mbuf* m, rte_mbuf* (&out)[kMaxFinishedSegments]) {
    if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) == 0) {
        if ((m->ol_flags & kOffloadRequests) != 0) finish_checksums(m);
        out[0] = m;
        return 1;
    }
    if ((m->ol_flags & RTE_MBUF_F_TX_UDP_SEG) != 0 || (m->ol_flags & RTE_MBUF_F_TX_IPV4) == 0) {
        drop_packet(ctx, m, DropReason::OffloadFailed);
        return 0;
    }
    rte_gso_ctx& gso = ctx.gso;
    gso.gso_size = static_cast<std::uint16_t>(m->l2_len + m->l3_len + m->l4_len + m->tso_segsz);
    const int n = rte_gso_segment(m, &gso, out, kMaxFinishedSegments);
    if (n < 0) {
        drop_packet(ctx, m, DropReason::OffloadFailed);
        return 0;
    }
    if (n == 0) {  // fits one segment: rte_gso left it alone
        finish_checksums(m);
        out[0] = m;
        return 1;
    }
    // The segments hold their own references to m's data.
    for (int i = 0; i < n; ++i) {
        out[i]->port = m->port;
        packet_meta(out[i]) = packet_meta(m);
        out[i]->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
        finish_checksums(out[i]);
    }
    rte_pktmbuf_free(m);
    return static_cast<unsigned>(n);
}

void send_finished(WorkerContext& ctx, PortId port, rte_mbuf* m) {
    rte_mbuf* out[kMaxFinishedSegments];
    const unsigned n = finish_offloads(ctx, m, out);
    for (unsigned i = 0; i < n; ++i) ctx.tx.send(port, out[i]);
}

}  // namespace dpdock::dataplane
