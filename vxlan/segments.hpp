// The VXLAN side of the forwarding snapshot: the host's VTEP settings and,
// for every overlay network, its VNI and peer VTEPs, found by network (encap,
// replication) and by VNI (decap, a binary search instead of a walk over the
// networks). Built whole by the control thread, then read-only: workers read
// it through the snapshot without locks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/packet/net_types.hpp"

namespace dpdock::vxlan {

// The host's VTEP settings (config::VxlanSpec).
struct Settings {
    std::uint16_t port = 4789;
    std::uint8_t ttl = 64;
    bool df = false;
    bool learn_unknown_peers = false;
};

// A remote VTEP of a network.
struct Peer {
    Ipv4Address ip;
    PortId port = kNoPort;  // its pseudo port in the MAC table (vtep_table.hpp)
};

// An overlay network's VXLAN segment: the remote VTEPs that get a copy of
// every flooded frame and whose frames are accepted. vni 0: not an overlay.
struct Segment {
    std::uint32_t vni = 0;
    std::vector<Peer> peers;
};

class Segments {
public:
    // Control thread, while building: `network`'s segment (its VNI unique
    // among the networks), replacing the one it had.
    void add(NetworkId network, Segment segment) {
        if (network >= by_network_.size()) by_network_.resize(std::size_t{network} + 1);
        std::erase_if(by_vni_, [&](const auto& entry) { return entry.second == network; });
        const auto at = std::lower_bound(by_vni_.begin(), by_vni_.end(), std::pair{segment.vni, NetworkId{0}});
        by_vni_.insert(at, {segment.vni, network});
        by_network_[network] = std::move(segment);
    }

    // The segment of `network`; an empty one (vni 0, no peers) when it is not an overlay.
    const Segment& of(NetworkId network) const { return network < by_network_.size() ? by_network_[network] : kNone; }

    // The overlay network carrying `vni`, or kNoNetwork.
    NetworkId network_of(std::uint32_t vni) const {
        const auto at = std::lower_bound(by_vni_.begin(), by_vni_.end(), std::pair{vni, NetworkId{0}});
        return at != by_vni_.end() && at->first == vni && vni != 0 ? at->second : kNoNetwork;
    }

private:
    static inline const Segment kNone{};
    std::vector<Segment> by_network_;                        // indexed by NetworkId
    std::vector<std::pair<std::uint32_t, NetworkId>> by_vni_;  // sorted by VNI
};

}  // namespace dpdock::vxlan
