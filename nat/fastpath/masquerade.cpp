#include "nat/fastpath/masquerade.hpp"

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstring>

#include "base/packet/headers.hpp"
#include "nat/fastpath/icmp_translate.hpp"
#include "nat/fastpath/rewrite.hpp"

namespace dpdock::nat {

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
