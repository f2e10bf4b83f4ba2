// Overlay (VXLAN) networks in the model: the rules no single YAML value can
// check (an uplink to carry them, one VNI per network, peers and remote MACs
// that make sense), VNI allocation from vxlan.vni-range, and the default MTU.
// Pure functions on the model; validate() and resolve() call them.
#pragma once

#include <cstdint>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

inline constexpr const char* kOverlayDriver = "overlay";
inline constexpr std::uint32_t kMaxVni = (1u << 24) - 1;
// Outer Ethernet + IPv4 + UDP + VXLAN headers: what an encapsulated frame
// needs on the uplink beyond its inner IP packet.
inline constexpr std::uint32_t kVxlanOverhead = 50;

inline bool is_overlay(const NetworkSpec& n) { return n.driver == kOverlayDriver; }

// An overlay network's MTU when none is given: the uplink's minus the VXLAN
// overhead (1450 on a 1500 underlay), so encapsulated frames fit the uplink.
inline std::uint32_t default_overlay_mtu(const Deployment& d) {
    return (d.uplink ? d.uplink->mtu : 1500) - kVxlanOverhead;
}

// The vxlan section and every network's overlay fields.
Status check_overlay(const Deployment& d);

// Gives every overlay network without a VNI the lowest free one of vxlan's range.
Status allocate_vnis(Deployment& d);

}  // namespace dpdock::config
