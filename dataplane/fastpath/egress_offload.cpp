// resolve_tx_offload: super-frames segmented, partial checksums completed. See egress_offload.hpp.
#include "dataplane/fastpath/egress_offload.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>
#include <optional>

#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dataplane/fastpath/segment_by_copy.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint64_t kClearedFlags = kTxOffloadFlags | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
                                        RTE_MBUF_F_TX_IP_CKSUM;

// The L4 checksum field's offset in its header, by the offload flags.
std::optional<std::uint32_t> checksum_field(std::uint64_t flags) {
    if ((flags & RTE_MBUF_F_TX_TCP_SEG) != 0) return offsetof(rte_tcp_hdr, cksum);
    switch (flags & RTE_MBUF_F_TX_L4_MASK) {
    case RTE_MBUF_F_TX_TCP_CKSUM: return offsetof(rte_tcp_hdr, cksum);
    case RTE_MBUF_F_TX_UDP_CKSUM: return offsetof(rte_udp_hdr, dgram_cksum);
    default: return std::nullopt;  // SCTP, or segmentation without a protocol
    }
}

// The headers the metadata describes must be in the first segment, and the
// IP header what the flags say it is.
bool headers_fit(const rte_mbuf* m, std::uint32_t l4_header) {
    const bool ipv6 = (m->ol_flags & RTE_MBUF_F_TX_IPV6) != 0;
    if (m->l2_len < sizeof(rte_ether_hdr) || m->l3_len < (ipv6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr))) return false;
    const std::uint32_t l4 = static_cast<std::uint32_t>(m->l2_len + m->l3_len);
    if (l4 + l4_header > rte_pktmbuf_data_len(m)) return false;
    const std::uint8_t version = *rte_pktmbuf_mtod_offset(m, const std::uint8_t*, m->l2_len) >> 4;
    if (ipv6) return version == 6;
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
    return version == 4 && rte_ipv4_hdr_len(ip) == m->l3_len;
}

// Recomputes the L4 checksum over the whole packet (all segments): what the
// field held (a pseudo-header sum, possibly for another length) is ignored.
// false: the lengths do not match the packet (the field is then left 0).
bool complete_checksum(rte_mbuf* m, std::uint32_t field) {
    const auto l4 = static_cast<std::uint32_t>(m->l2_len + m->l3_len);
    auto* csum = rte_pktmbuf_mtod_offset(m, std::uint8_t*, l4 + field);
    const std::uint16_t zero = 0;
    std::memcpy(csum, &zero, sizeof zero);
    std::uint32_t sum;
    std::uint32_t len;
    if ((m->ol_flags & RTE_MBUF_F_TX_IPV6) != 0) {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, m->l2_len);
        sum = rte_ipv6_phdr_cksum(ip, 0);
        len = rte_be_to_cpu_16(ip->payload_len) + sizeof(rte_ipv6_hdr) - m->l3_len;
    } else {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
        sum = rte_ipv4_phdr_cksum(ip, 0);
        len = rte_be_to_cpu_16(ip->total_length) - m->l3_len;
    }
    std::uint16_t data = 0;
    if (len > 0xffff || l4 + len > rte_pktmbuf_pkt_len(m) || rte_raw_cksum_mbuf(m, l4, len, &data) != 0) return false;
    sum += data;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    auto result = static_cast<std::uint16_t>(~sum);
    // UDP sends a computed 0 as 0xffff (RFC 768), as rte_ipv4_udptcp_cksum does.
    if (result == 0 && field == offsetof(rte_udp_hdr, dgram_cksum)) result = 0xffff;
    std::memcpy(csum, &result, sizeof result);
    return true;
}

// The segments of `m` (whichever segmenter cut them, lengths written):
// IPv4 header and L4 checksums computed, offload flags cleared; then `m`
// goes (the segments hold or copied its payload). false: the segments are
// freed, `m` is kept.
bool finish_segments(sync::WorkerCounters& counters, rte_mbuf* m, rte_mbuf** out, unsigned n) {
    const std::uint32_t field = (m->ol_flags & RTE_MBUF_F_TX_UDP_SEG) != 0 ? offsetof(rte_udp_hdr, dgram_cksum)
                                                                           : offsetof(rte_tcp_hdr, cksum);
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* s = out[i];
        if ((s->ol_flags & RTE_MBUF_F_TX_IPV4) != 0) {
            auto* ip = rte_pktmbuf_mtod_offset(s, rte_ipv4_hdr*, s->l2_len);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
        }
        if (!complete_checksum(s, field)) {  // cannot happen: the segmenter wrote the lengths
            rte_pktmbuf_free_bulk(out, n);
            return false;
        }
        s->ol_flags &= ~kClearedFlags;
    }
    rte_pktmbuf_free(m);
    sync::bump(counters.gso_frames);
    sync::bump(counters.gso_segments, n);
    return true;
}

// What rte_gso cannot cut (TCP over IPv6; UDP segmentation, which is IP
// fragmentation to rte_gso, not Linux's datagrams) is cut by copy.
unsigned segment_other(const OffloadPools& pools, sync::WorkerCounters& counters, rte_mbuf* m, rte_mbuf** out) {
    const bool udp = (m->ol_flags & RTE_MBUF_F_TX_UDP_SEG) != 0;
    if ((udp ? m->l4_len != sizeof(rte_udp_hdr) : m->l4_len < sizeof(rte_tcp_hdr)) || !headers_fit(m, m->l4_len) ||
        pools.direct == nullptr) {
        return 0;
    }
    const unsigned n = segment_by_copy(pools.direct, m, out, kMaxGsoSegments);
    return n != 0 && finish_segments(counters, m, out, n) ? n : 0;
}

unsigned segment(const OffloadPools& pools, sync::WorkerCounters& counters, rte_mbuf* m, rte_mbuf** out) {
    if ((m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_SEG)) != RTE_MBUF_F_TX_IPV4) {
        return segment_other(pools, counters, m, out);
    }
    // rte_gso needs the TCP header length and the MSS.
    if (m->l4_len < sizeof(rte_tcp_hdr) || m->tso_segsz == 0 || !headers_fit(m, m->l4_len) ||
        pools.direct == nullptr || pools.indirect == nullptr) {
        return 0;
    }
    const std::uint32_t headers = static_cast<std::uint32_t>(m->l2_len + m->l3_len + m->l4_len);
    const std::uint32_t size = headers + m->tso_segsz;
    if (size > UINT16_MAX || (rte_pktmbuf_pkt_len(m) - headers + m->tso_segsz - 1) / m->tso_segsz > kMaxGsoSegments) {
        return 0;
    }
    rte_gso_ctx gso{};
    gso.direct_pool = pools.direct;
    gso.indirect_pool = pools.indirect;
    gso.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
    gso.gso_size = static_cast<std::uint16_t>(size);
    gso.flag = 0;  // incrementing IPv4 ids, as Linux's segmentation gives
    // rte_gso clears TCP_SEG on the input; a flooded frame is shared with
    // ports that still want it whole.
    const std::uint64_t flags = m->ol_flags;
    const int n = rte_gso_segment(m, &gso, out, kMaxGsoSegments);
    m->ol_flags = flags;
    if (n < 0) return 0;
    if (n == 0) {  // not larger than one segment: only its checksum is owed
        if (!complete_checksum(m, offsetof(rte_tcp_hdr, cksum))) return 0;
        m->ol_flags &= ~kClearedFlags;
        sync::bump(counters.checksum_completed);
        out[0] = m;
        return 1;
    }
    return finish_segments(counters, m, out, static_cast<unsigned>(n)) ? static_cast<unsigned>(n) : 0;
}

}  // namespace

std::uint32_t egress_ipv4_length(const rte_mbuf* m, std::uint32_t total_length) {
    if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) == 0 || m->tso_segsz == 0) return total_length;
    const std::uint32_t segment = static_cast<std::uint32_t>(m->l3_len + m->l4_len + m->tso_segsz);
    return segment < total_length ? segment : total_length;
}

unsigned resolve_tx_offload(const OffloadPools& pools, sync::WorkerCounters& counters, rte_mbuf* m, rte_mbuf** out) {
    if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) != 0) return segment(pools, counters, m, out);
    const auto field = checksum_field(m->ol_flags);
    if (!field || !headers_fit(m, *field + sizeof(std::uint16_t)) || !complete_checksum(m, *field)) return 0;
    m->ol_flags &= ~kClearedFlags;
    sync::bump(counters.checksum_completed);
    out[0] = m;
    return 1;
}

}  // namespace dpdock::dataplane
