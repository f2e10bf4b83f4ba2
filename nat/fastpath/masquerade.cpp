#include "nat/fastpath/masquerade.hpp"

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstring>

#include "base/packet/headers.hpp"
#include "nat/fastpath/icmp_translate.hpp"
#include "nat/fastpath/rewrite.hpp"

namespace dpdock::nat {

std::optional<FlowKey> flow_key_of(rte_mbuf* m, const PacketMeta& meta) {
    if ((meta.flags & kFlagFragment) != 0) return std::nullopt;
    return flow_key_of_headers(m, meta);
}

std::optional<FlowKey> flow_key_of_headers(rte_mbuf* m, const PacketMeta& meta) {
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

Tracked look_up(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta) {
    Tracked t;
    t.key = flow_key_of(m, meta);
    if (t.key) t.entry = ct.find(*t.key, t.dir);
    return t;
}

std::optional<DropReason> masquerade_outbound(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta,
                                              const Tracked& t, std::uint32_t host_ip, std::uint64_t now) {
    if (is_icmp_error(m, meta)) return icmp_error_outbound(ct, m, meta);
    if (!t.key) return (meta.flags & kFlagFragment) != 0 ? DropReason::FragmentUnmatched : DropReason::NatUnsupported;
    const std::uint8_t flags = tcp_flags_of(m, meta);
    Entry* e = t.entry;
    if (e == nullptr || t.dir != Direction::Original) {
        std::array<std::uint8_t, 6> mac;
        std::memcpy(mac.data(), header_at<const rte_ether_hdr>(m, 0)->src_addr.addr_bytes, mac.size());
        DropReason why{};
        e = ct.create(*t.key, host_ip, MacAddress(mac), meta.network, flags, now, why);
        if (e == nullptr) return why;
    } else {
        ct.track(*e, Direction::Original, flags, now);
    }
    // The reply key's destination is the translated source.
    rewrite(m, meta, Side::Source, e->reply.dst_ip, e->reply.dst_port);
    return std::nullopt;
}

const Entry* masquerade_inbound(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta, const Tracked& t,
                                std::uint64_t now) {
    if (is_icmp_error(m, meta)) return icmp_error_inbound(ct, m, meta);
    Entry* e = t.entry;
    if (e == nullptr || t.dir != Direction::Reply) return nullptr;
    ct.track(*e, Direction::Reply, tcp_flags_of(m, meta), now);
    rewrite(m, meta, Side::Destination, e->original.src_ip, e->original.src_port);
    return e;
}

}  // namespace dpdock::nat
