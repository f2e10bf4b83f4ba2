// A network as the bridge sees it: its members (the flood list), its gateway
// (the router port every container's default route points at) and Docker's
// enable_icc. The forwarding snapshot's NetworkInfo is a Domain plus the
// network's L3 and NAT settings; built by the control thread, immutable once
// published, read by workers without locks.
#pragma once

#include <cstdint>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock::bridge {

struct Domain {
    MacAddress gateway_mac;
    Ipv4Address gateway_ip;
    bool icc = true;              // IPv4 between two ports of the network (enable_icc)
    std::vector<PortId> members;  // every port of the network: the flood list

    // enable_icc=false, Docker's `iptables -A FORWARD -i docker0 -o docker0 -j DROP`:
    // IPv4 from one port of the network to another never crosses the bridge.
    // ARP still does (it is not IPv4, and Docker's rule does not see it either),
    // and so does everything addressed to the gateway's MAC: the gateway itself,
    // routed traffic, published ports. `dst_mac` as MacAddress::to_u64() spells it.
    bool icc_blocks(const PacketMeta& meta, std::uint64_t dst_mac) const {
        return !icc && meta.l3_type == L3Type::Ipv4 && dst_mac != gateway_mac.to_u64();
    }
};

}  // namespace dpdock::bridge
