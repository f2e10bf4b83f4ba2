// enable_icc=false, Docker's `iptables -A FORWARD -i docker0 -o docker0 -j DROP`:
// IPv4 from one port of the network to another never crosses the bridge.
// ARP still does (it is not IPv4, and Docker's rule does not see it either),
// and so does everything addressed to the gateway's MAC: the gateway itself,
// routed traffic, published ports. Worker-only, header-only.
#pragma once

#include <cstdint>

#include "dataplane/forwarding_snapshot.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock::dataplane {

// `dst_mac`: the frame's destination, as MacAddress::to_u64() spells it.
inline bool icc_blocked(const dataplane::NetworkInfo& net, const PacketMeta& meta, std::uint64_t dst_mac) {
    return !net.icc && meta.l3_type == L3Type::Ipv4 && dst_mac != net.gateway_mac.to_u64();
}

}  // namespace dpdock::dataplane
