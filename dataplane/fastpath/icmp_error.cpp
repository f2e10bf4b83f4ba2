#include "dataplane/fastpath/icmp_error.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "base/packet/checksum.hpp"
#include "dataplane/fastpath/egress_offload.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/headers.hpp"
#include "nat/fastpath/icmp_translate.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint8_t kErrorTtl = 64;                   // Linux's default TTL
constexpr std::uint8_t kTosInternetControl = 0xc0;       // Linux: IPTOS_PREC_INTERNETCONTROL
constexpr std::uint32_t kQuotedL4Bytes = 8;              // RFC 792: "the first 64 bits of the original data"
constexpr std::uint8_t kIcmpTimeExceeded = 11;

// RFC 1812 4.3.2.7: no error about an ICMP error. Linux counts unknown types
// (above 18, the last it knows) as errors too.
bool is_icmp_error_type(std::uint8_t type) {
    switch (type) {
    case 3: case 4: case 5: case 11: case 12: return true;  // unreachable, quench, redirect, time exceeded, parameter
    default: return type > 18;
    }
}

// Class D (multicast), class E and the limited broadcast all start with 1110 or 1111.
bool is_group_or_reserved(Ipv4Address a) { return (a.host() >> 28) >= 0xe; }

bool may_answer(const rte_mbuf* m, const PacketMeta& meta, const rte_ipv4_hdr& ip) {
    if ((meta.flags & kFlagMulticast) != 0) return false;
    if ((ip.fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) return false;
    const Ipv4Address src = Ipv4Address::from_be(Be32::from_raw(ip.src_addr));
    const Ipv4Address dst = Ipv4Address::from_be(Be32::from_raw(ip.dst_addr));
    if (is_group_or_reserved(dst) || is_group_or_reserved(src) || src.host() == 0 || (src.host() >> 24) == 127) {
        return false;
    }
    if (ip.next_proto_id != IPPROTO_ICMP) return true;
    if ((meta.flags & kFlagL4Valid) == 0) return false;
    return !is_icmp_error_type(header_at<const rte_icmp_hdr>(m, meta.l4_offset)->icmp_type);
}

}  // namespace

std::optional<ForwardError> check_forward(const rte_mbuf* m, rte_ipv4_hdr& ip, std::uint32_t egress_mtu) {
    if (ip.time_to_live <= 1) return ForwardError{DropReason::TtlExceeded, kIcmpTimeExceeded, 0, 0};
    if ((ip.fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) != 0 &&
        egress_ipv4_length(m, rte_be_to_cpu_16(ip.total_length)) > egress_mtu) {
        return ForwardError{DropReason::FragNeeded, kIcmpDestUnreachable, kIcmpFragNeeded,
                            static_cast<std::uint16_t>(std::min<std::uint32_t>(egress_mtu, 0xffff))};
    }
    ipv4_decrement_ttl(ip);
    return std::nullopt;
}

rte_mbuf* make_icmp_error(WorkerContext& ctx, const rte_mbuf* offending, const PacketMeta& meta,
                          const ForwardError& err, Ipv4Address from, std::uint64_t now) {
    const auto* ip = header_at<const rte_ipv4_hdr>(offending, meta.l3_offset);
    if (err.icmp_type == 0 || !may_answer(offending, meta, *ip)) return nullptr;
    const bool frag_needed = err.icmp_type == kIcmpDestUnreachable && err.icmp_code == kIcmpFragNeeded;
    rte_mbuf* e = nullptr;
    if (frag_needed || ctx.icmp.limit.take(now)) e = rte_pktmbuf_alloc(ctx.pool);
    if (e == nullptr) {
        sync::bump(ctx.counters->icmp_errors_suppressed);
        return nullptr;
    }
    const std::uint32_t quote = std::min({ipv4_header_len(*ip) + kQuotedL4Bytes,
                                          std::uint32_t{rte_be_to_cpu_16(ip->total_length)},
                                          offending->pkt_len - meta.l3_offset});
    constexpr std::uint32_t kHeaders = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);
    auto* frame = rte_pktmbuf_mtod(e, std::uint8_t*);
    // An mbuf's data room holds far more than 42 + 68 bytes.
    rte_pktmbuf_append(e, static_cast<std::uint16_t>(kHeaders + quote));
    std::uint8_t* quoted = frame + kHeaders;
    const void* src = rte_pktmbuf_read(offending, meta.l3_offset, quote, quoted);
    if (src != quoted) std::memcpy(quoted, src, quote);

    auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
    std::memset(eth, 0, sizeof *eth);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto* out = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    out->version_ihl = RTE_IPV4_VHL_DEF;
    out->type_of_service = kTosInternetControl;
    out->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) + quote));
    out->packet_id = rte_cpu_to_be_16(ctx.icmp.next_id++);
    out->fragment_offset = 0;
    out->time_to_live = kErrorTtl;
    out->next_proto_id = IPPROTO_ICMP;
    out->src_addr = from.be().raw();
    out->dst_addr = ip->src_addr;
    out->hdr_checksum = 0;
    out->hdr_checksum = rte_ipv4_cksum(out);
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(out + 1);
    icmp->icmp_type = err.icmp_type;
    icmp->icmp_code = err.icmp_code;
    icmp->icmp_cksum = 0;
    icmp->icmp_ident = 0;  // "unused" (RFC 792), or unused + next-hop MTU (RFC 1191)
    icmp->icmp_seq_nb = rte_cpu_to_be_16(err.mtu);
    icmp->icmp_cksum = static_cast<std::uint16_t>(~rte_raw_cksum(icmp, sizeof(rte_icmp_hdr) + quote));

    e->port = offending->port;
    PacketMeta& em = packet_meta(e);
    em = meta;
    em.l3_offset = sizeof(rte_ether_hdr);
    em.l4_offset = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr);
    em.l3_payload = static_cast<std::uint16_t>(sizeof(rte_icmp_hdr) + quote);
    em.l3_type = L3Type::Ipv4;
    em.l4_proto = IPPROTO_ICMP;
    em.flags = kFlagL4Valid;
    em.l4_checksum = ChecksumState::Full;
    em.depth = ParseDepth::L4;
    sync::bump(ctx.counters->icmp_errors_sent);
    return e;
}

void return_icmp_error(WorkerContext& ctx, const rte_mbuf* offending, const PacketMeta& meta, const ForwardError& err,
                       Ipv4Address from, MacAddress from_mac, std::uint64_t now) {
    rte_mbuf* e = make_icmp_error(ctx, offending, meta, err, from, now);
    if (e == nullptr) return;
    auto* eth = rte_pktmbuf_mtod(e, rte_ether_hdr*);
    eth->dst_addr = rte_pktmbuf_mtod(offending, const rte_ether_hdr*)->src_addr;
    std::memcpy(eth->src_addr.addr_bytes, from_mac.bytes().data(), RTE_ETHER_ADDR_LEN);
    ctx.tx.send(meta.ingress_port, e);
}

void send_icmp_error_out(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, const rte_mbuf* offending,
                         const PacketMeta& meta, const ForwardError& err, const nat::FlowKey* received,
                         std::uint64_t now) {
    const Ipv4Address host = uplink.address.address();
    rte_mbuf* e = make_icmp_error(ctx, offending, meta, err, host, now);
    if (e == nullptr) return;
    if (received != nullptr) nat::quote_as_received(e, packet_meta(e), *received);
    const auto* ip = header_at<const rte_ipv4_hdr>(e, packet_meta(e).l3_offset);
    const Ipv4Address to = Ipv4Address::from_be(Be32::from_raw(ip->dst_addr));
    send_via_uplink(ctx, uplink, e, uplink.address.contains(to) ? to : uplink.gateway, now);
}

}  // namespace dpdock::dataplane
