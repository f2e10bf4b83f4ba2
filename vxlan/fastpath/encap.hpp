// VXLAN encapsulation of one frame on the worker: the outer header a frame of
// an overlay network gets towards a peer VTEP (built into a template once per
// VTEP: outer_templates.hpp), the inner MTU that leaves the underlay, and the
// prepend itself. Header-only so the encap path inlines it
// (vxlan_header.hpp says why). The engine (dataplane/fastpath/overlay_encap.cpp)
// fits packets to the inner MTU first and sends the result via the uplink.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "base/packet/net_types.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"
#include "vxlan/segments.hpp"

namespace dpdock::vxlan {

inline OuterHeader outer_header(const Settings& settings, Ipv4Address host, Ipv4Address vtep, std::uint32_t vni) {
    OuterHeader h;
    h.src = host;
    h.dst = vtep;
    h.dst_port = settings.port;
    h.vni = vni;
    h.ttl = settings.ttl;
    h.df = settings.df;
    return h;
}

// What an inner IPv4 packet may carry so that the outer one fits `uplink_mtu`.
constexpr std::uint32_t inner_mtu(std::uint32_t uplink_mtu) {
    return uplink_mtu > kEncapLen ? uplink_mtu - kEncapLen : 0;
}

// Prepends the outer headers of `t` to `m` (its own mbuf: not shared). The
// flow hash is passed in because a copy's private area (PacketMeta) is not
// copied with it. False when `m` has no headroom left: the caller drops it
// (vxlan_no_buffer).
inline bool encapsulate(rte_mbuf* m, const OuterTemplate& t, std::uint16_t ip_id, std::uint32_t flow_hash) {
    const auto inner_len = static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m));
    auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, kEncapLen));
    if (out == nullptr) return false;
    stamp(out, t, inner_len, ip_id, source_port(flow_hash));
    return true;
}

}  // namespace dpdock::vxlan
