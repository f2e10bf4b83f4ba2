// The read-mostly forwarding state workers see: which network each port is in,
// each network's flood list and gateway, and which ports each worker polls.
// Built whole by the control thread (control/state.cpp) and published through
// sync::Snapshot; immutable once published, so workers read it without locks.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/packet/net_types.hpp"
#include "dataplane/sync/counters.hpp"

namespace dpdock::bridge {

enum class PortRole : std::uint8_t {
    Unused,     // no port with this id, or it is being removed
    Container,  // host end of a container's veth or tap
    Member,     // a raw DPDK port in a network (NIC, memif, ring)
};

struct PortInfo {
    PortRole role = PortRole::Unused;
    NetworkId network = kNoNetwork;
};

struct NetworkInfo {
    MacAddress gateway_mac;
    Ipv4Address gateway_ip;
    std::vector<PortId> members;  // every port of the network: the flood list
};

struct RxQueue {
    PortId port = kNoPort;
    std::uint16_t queue = 0;
};

struct ForwardingSnapshot {
    std::array<PortInfo, sync::kMaxPorts> ports{};
    std::vector<NetworkInfo> networks;            // indexed by NetworkId
    std::vector<std::vector<RxQueue>> rx_queues;  // per worker: the rx queues it polls

    bool port_in_network(PortId port, NetworkId network) const {
        return port < ports.size() && ports[port].role != PortRole::Unused && ports[port].network == network;
    }
};

}  // namespace dpdock::bridge
