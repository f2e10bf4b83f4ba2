// Packets of one worker waiting for ARP to resolve their next hop on the
// uplink. A fixed array owned by the worker: no allocation, no sharing. The
// worker looks at it once per loop iteration (service_pending) while it is not
// empty; a full queue refuses new packets (dropped as arp_queue_full).
#pragma once

#include <array>
#include <cstdint>

#include <rte_mbuf.h>

#include "base/packet/net_types.hpp"

namespace dpdock::dataplane {

// How many ARP requests a waiting packet triggers before it is given up (as Linux's mcast_solicit).
inline constexpr std::uint8_t kArpAttempts = 3;

struct PendingPacket {
    rte_mbuf* m = nullptr;
    Ipv4Address next_hop;
    std::uint64_t asked = 0;  // TSC of the last ARP request sent for it
    std::uint8_t attempts = 0;
};

struct PendingPackets {
    static constexpr unsigned kCapacity = 64;
    std::array<PendingPacket, kCapacity> slots{};
    unsigned count = 0;
};

}  // namespace dpdock::dataplane
