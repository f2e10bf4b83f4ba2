// The networks' subnets sorted by address, so that the network holding an
// address (routing's isolation check, the exception path's) is a binary
// search instead of a walk over every network: a host with 100 networks paid
// ~100 compares for every packet routed out of a container. Subnets of
// networks never overlap (config/validate.cpp refuses it), so at most one
// range holds an address. Built by the control thread with the snapshot
// (ForwardingSnapshot::index_subnets), then read-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/packet/net_types.hpp"

namespace dpdock::dataplane {

class SubnetIndex {
public:
    // Control thread: indexes `subnets[i]` as network i (prefix 0: none).
    template <typename Networks, typename SubnetOf>
    void rebuild(const Networks& networks, SubnetOf subnet_of) {
        ranges_.clear();
        for (std::size_t i = 0; i < networks.size(); ++i) {
            const Ipv4Cidr subnet = subnet_of(networks[i]);
            if (subnet.prefix() == 0) continue;
            ranges_.push_back({subnet.network().host(), subnet.broadcast().host(), static_cast<NetworkId>(i)});
        }
        std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
        indexed_ = networks.size();
    }

    // The network whose subnet holds `ip`, or kNoNetwork.
    NetworkId find(Ipv4Address ip) const {
        const std::uint32_t a = ip.host();
        // The last range starting at or below `a`: the only one that can hold it.
        auto at = std::upper_bound(ranges_.begin(), ranges_.end(), a, [](std::uint32_t v, const Range& r) { return v < r.first; });
        if (at == ranges_.begin()) return kNoNetwork;
        --at;
        return a <= at->last ? at->network : kNoNetwork;
    }

    // How many networks the last rebuild saw (a check that it followed them).
    std::size_t indexed() const { return indexed_; }

private:
    struct Range {
        std::uint32_t first;
        std::uint32_t last;
        NetworkId network;
    };
    std::vector<Range> ranges_;
    std::size_t indexed_ = 0;
};

}  // namespace dpdock::dataplane
