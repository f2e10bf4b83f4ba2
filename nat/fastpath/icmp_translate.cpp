#include "nat/fastpath/icmp_translate.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>

#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"
#include "nat/fastpath/field_rewrite.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kIcmpHeader = sizeof(rte_icmp_hdr);  // type, code, checksum, 4 bytes "unused"
constexpr std::uint32_t kMinIpHeader = sizeof(rte_ipv4_hdr);

// The quoted packet inside an ICMP error: its IPv4 header and how many bytes
// of it (header included) the error carries in the first segment.
struct Quote {
    std::uint8_t* icmp = nullptr;
    std::uint8_t* ip = nullptr;
    std::uint32_t len = 0;
    std::uint32_t ihl = 0;
    std::uint8_t proto = 0;
};

std::optional<Quote> quote_of(rte_mbuf* m, const PacketMeta& meta) {
    Quote q;
    q.icmp = bytes_at(m, meta.l4_offset, kIcmpHeader);
    const std::uint32_t declared = meta.l3_payload - kIcmpHeader;
    const std::uint32_t in_segment = m->data_len - (meta.l4_offset + kIcmpHeader);
    q.len = std::min(declared, in_segment);
    if (q.icmp == nullptr || meta.l3_payload < kIcmpHeader + kMinIpHeader || q.len < kMinIpHeader) return std::nullopt;
    q.ip = q.icmp + kIcmpHeader;
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(q.ip);
    q.ihl = ipv4_header_len(*ip);
    q.proto = ip->next_proto_id;
    if ((ip->version_ihl >> 4) != 4 || q.ihl < kMinIpHeader || (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
        return std::nullopt;
    }
    // RFC 792 promises 8 bytes after the header: both ports, or the echo id.
    if (q.len < q.ihl + 8) return std::nullopt;
    return q;
}

// The quoted packet's flow key, as its sender saw it (see FlowKey for ICMP echo).
std::optional<FlowKey> key_of(const Quote& q) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(q.ip);
    const std::uint8_t* l4 = q.ip + q.ihl;
    FlowKey k;
    k.src_ip = ip->src_addr;
    k.dst_ip = ip->dst_addr;
    k.proto = q.proto;
    if (q.proto == IPPROTO_TCP || q.proto == IPPROTO_UDP) {
        k.src_port = load<std::uint16_t>(l4 + offsetof(rte_udp_hdr, src_port));
        k.dst_port = load<std::uint16_t>(l4 + offsetof(rte_udp_hdr, dst_port));
        return k;
    }
    if (q.proto != IPPROTO_ICMP) return std::nullopt;
    const auto* echo = reinterpret_cast<const rte_icmp_hdr*>(l4);
    if (echo->icmp_code != 0) return std::nullopt;
    if (echo->icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
        k.src_port = echo->icmp_ident;
    } else if (echo->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
        k.dst_port = echo->icmp_ident;
    } else {
        return std::nullopt;
    }
    return k;
}

// Sets one side's address and port (echo id) of the quoted packet, patching
// its IPv4 checksum and, when quoted, its L4 checksum. Returns the change of
// the ICMP message's sum.
std::uint16_t rewrite_quote(const Quote& q, Side side, std::uint32_t ip, std::uint16_t port) {
    std::uint8_t* ip_csum = q.ip + offsetof(rte_ipv4_hdr, hdr_checksum);
    const std::uint16_t old_ip_csum = load<std::uint16_t>(ip_csum);
    const std::uint16_t addr_delta = set_ipv4_address(q.ip, side, ip);
    std::uint16_t icmp_delta = csum_delta_add(addr_delta, csum_delta16(old_ip_csum, load<std::uint16_t>(ip_csum)));

    std::uint8_t* l4 = q.ip + q.ihl;
    std::uint8_t* p = nullptr;
    std::uint8_t* l4_csum = nullptr;  // nullptr: not in the quote
    std::uint16_t l4_delta = 0;
    if (q.proto == IPPROTO_ICMP) {
        p = l4 + offsetof(rte_icmp_hdr, icmp_ident);
        l4_csum = l4 + offsetof(rte_icmp_hdr, icmp_cksum);
    } else {
        p = l4 + (side == Side::Source ? offsetof(rte_udp_hdr, src_port) : offsetof(rte_udp_hdr, dst_port));
        const std::size_t at = q.proto == IPPROTO_TCP ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum);
        if (q.ihl + at + sizeof(std::uint16_t) <= q.len) l4_csum = l4 + at;
        l4_delta = addr_delta;  // TCP and UDP cover the addresses through their pseudo-header
    }
    const std::uint16_t port_delta = csum_delta16(load<std::uint16_t>(p), port);
    store(p, port);
    icmp_delta = csum_delta_add(icmp_delta, port_delta);
    if (l4_csum != nullptr) {
        l4_delta = csum_delta_add(l4_delta, port_delta);
        const std::uint16_t old_csum = load<std::uint16_t>(l4_csum);
        const std::uint16_t new_csum = q.proto == IPPROTO_UDP ? udp_csum_apply(old_csum, l4_delta)
                                                              : csum_apply(old_csum, l4_delta);
        store(l4_csum, new_csum);
        icmp_delta = csum_delta_add(icmp_delta, csum_delta16(old_csum, new_csum));
    }
    return icmp_delta;
}

void patch_icmp_checksum(const Quote& q, std::uint16_t delta) {
    std::uint8_t* csum = q.icmp + offsetof(rte_icmp_hdr, icmp_cksum);
    store(csum, csum_apply(load<std::uint16_t>(csum), delta));
}

// Sets the outer header's address on one side (ICMP has no pseudo-header:
// only the IPv4 checksum changes).
void rewrite_outer(rte_mbuf* m, const PacketMeta& meta, Side side, std::uint32_t ip) {
    set_ipv4_address(rte_pktmbuf_mtod_offset(m, std::uint8_t*, meta.l3_offset), side, ip);
}

// The flow whose `expected`-direction key is the quote reversed (the quote
// travelled the other way than the error that carries it).
Entry* flow_of(const Conntrack& ct, const Quote& q, Direction expected) {
    const auto key = key_of(q);
    if (!key) return nullptr;
    Direction dir = Direction::Original;
    Entry* e = ct.find(key->reversed(), dir);
    return e != nullptr && dir == expected ? e : nullptr;
}

}  // namespace

const Entry* icmp_error_inbound(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta) {
    const auto q = quote_of(m, meta);
    if (!q) return nullptr;
    const auto key = key_of(*q);
    if (!key) return nullptr;
    // The quote is a packet of the flow as it left, from host:port; the
    // container sent it from `inside`. Its reversal is the reply key of a
    // MASQUERADE flow, or the original key of a published port's flow (the
    // container's reply, e.g. fragmentation needed on its way to the client).
    Direction dir = Direction::Original;
    const Entry* e = ct.find(key->reversed(), dir);
    if (e == nullptr) return nullptr;
    const FlowKey* inside = nullptr;
    if (dir == Direction::Reply) {
        inside = &e->original;
    } else if (e->kind == EntryKind::Published) {
        inside = &e->reply;
    } else {
        return nullptr;
    }
    rewrite_outer(m, meta, Side::Destination, inside->src_ip);
    patch_icmp_checksum(*q, rewrite_quote(*q, Side::Source, inside->src_ip, inside->src_port));
    return e;
}

std::optional<DropReason> icmp_error_outbound(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta) {
    const auto q = quote_of(m, meta);
    if (!q) return DropReason::NatUnsupported;
    // The quote is a reply as the container received it: its reversal is the original key.
    const Entry* e = flow_of(ct, *q, Direction::Original);
    if (e == nullptr) return DropReason::NatUnsupported;
    rewrite_outer(m, meta, Side::Source, e->reply.dst_ip);
    patch_icmp_checksum(*q, rewrite_quote(*q, Side::Destination, e->reply.dst_ip, e->reply.dst_port));
    return std::nullopt;
}

void quote_as_received(rte_mbuf* m, const PacketMeta& meta, const FlowKey& received) {
    if (const auto q = quote_of(m, meta)) {
        patch_icmp_checksum(*q, rewrite_quote(*q, Side::Destination, received.dst_ip, received.dst_port));
    }
}

}  // namespace dpdock::nat
