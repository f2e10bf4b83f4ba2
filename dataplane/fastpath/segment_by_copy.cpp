// segment_by_copy: IPv6 TCP and UDP super-frames as Linux segments them. See segment_by_copy.hpp.
#include "dataplane/fastpath/segment_by_copy.hpp"

#include <cstdint>
#include <cstring>

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

namespace dpdock::dataplane {
namespace {

constexpr std::uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

// Segment `index` of `count` (its payload `payload` bytes) gets the
// super-frame's headers adjusted: lengths, IPv4 id, TCP sequence and flags.
void write_headers(rte_mbuf* s, unsigned index, unsigned count, std::uint32_t payload, std::uint32_t mss) {
    const std::uint32_t l4 = s->l2_len + s->l3_len;
    if ((s->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) {
        auto* th = rte_pktmbuf_mtod_offset(s, rte_tcp_hdr*, l4);
        th->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + index * mss);
        if (index != 0) th->tcp_flags &= static_cast<std::uint8_t>(~kTcpCwr);
        if (index + 1 != count) th->tcp_flags &= static_cast<std::uint8_t>(~(kTcpFin | kTcpPsh));
    } else {
        auto* uh = rte_pktmbuf_mtod_offset(s, rte_udp_hdr*, l4);
        uh->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + payload));
    }
    const std::uint32_t l3_payload = s->l4_len + payload;
    if ((s->ol_flags & RTE_MBUF_F_TX_IPV6) != 0) {
        auto* ip = rte_pktmbuf_mtod_offset(s, rte_ipv6_hdr*, s->l2_len);
        ip->payload_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(s->l3_len - sizeof(rte_ipv6_hdr) + l3_payload));
    } else {
        auto* ip = rte_pktmbuf_mtod_offset(s, rte_ipv4_hdr*, s->l2_len);
        ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(s->l3_len + l3_payload));
        ip->packet_id = rte_cpu_to_be_16(static_cast<std::uint16_t>(rte_be_to_cpu_16(ip->packet_id) + index));
    }
}

}  // namespace

unsigned segment_by_copy(rte_mempool* pool, const rte_mbuf* m, rte_mbuf** out, unsigned max_out) {
    const std::uint32_t headers = static_cast<std::uint32_t>(m->l2_len + m->l3_len + m->l4_len);
    const std::uint32_t mss = m->tso_segsz;
    if (mss == 0 || headers > rte_pktmbuf_pkt_len(m) || headers > RTE_PKTMBUF_HEADROOM) return 0;
    const std::uint32_t payload = rte_pktmbuf_pkt_len(m) - headers;
    const unsigned count = payload == 0 ? 1 : (payload + mss - 1) / mss;
    if (count > max_out || headers + mss > UINT16_MAX) return 0;

    for (unsigned k = 0; k < count; ++k) {
        const std::uint32_t at = k * mss;
        const std::uint32_t len = payload - at < mss ? payload - at : mss;
        rte_mbuf* s = len == 0 ? rte_pktmbuf_alloc(pool) : rte_pktmbuf_copy(m, pool, headers + at, len);
        char* front = s == nullptr ? nullptr : rte_pktmbuf_prepend(s, static_cast<std::uint16_t>(headers));
        if (front == nullptr) {  // pool dry (a fresh mbuf always has the headroom checked above)
            rte_pktmbuf_free(s);
            rte_pktmbuf_free_bulk(out, k);
            return 0;
        }
        std::memcpy(front, rte_pktmbuf_mtod(m, const char*), headers);
        s->port = m->port;
        s->ol_flags = m->ol_flags;
        s->tx_offload = m->tx_offload;
        write_headers(s, k, count, len, mss);
        out[k] = s;
    }
    return count;
}

}  // namespace dpdock::dataplane
