// Remote VTEPs as pseudo ports. The MAC table maps (network, MAC) to a PortId;
// a MAC behind a remote VTEP maps to kVtepPortBase + the VTEP's index here,
// so learning, ageing, moves and static entries work unchanged for remote
// MACs, and the bridge stage tells a remote destination by its port id.
// Writers: the control thread (peers, static remote MACs) and workers that
// learn from unknown peers (vxlan.learn-unknown-peers) add addresses with a
// compare-and-swap into a free slot. Readers: anyone, lock-free.
// An index keeps its address for the life of the process (never freed), so a
// MAC entry or an in-flight packet never sees an index reused for another VTEP;
// the price is a limit of kMaxVteps distinct VTEPs per daemon run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "base/packet/net_types.hpp"
#include "base/sync/counters.hpp"

namespace dpdock::vxlan {

inline constexpr PortId kVtepPortBase = 0x8000;
inline constexpr unsigned kMaxVteps = 1024;
static_assert(kVtepPortBase >= sync::kMaxPorts, "VTEP ports must not collide with ethdev ports");
static_assert(kVtepPortBase + kMaxVteps < kNoPort);

constexpr bool is_vtep_port(PortId port) { return port >= kVtepPortBase && port < kVtepPortBase + kMaxVteps; }

class VtepTable {
public:
    // The VTEP's port, adding it when new; kNoPort when the table is full or
    // `ip` is 0.0.0.0. Any thread.
    PortId port_of(Ipv4Address ip);
    // The address behind a port from port_of(); 0.0.0.0 for any other port.
    Ipv4Address address(PortId port) const {
        if (!is_vtep_port(port)) return Ipv4Address();
        return Ipv4Address(ips_[port - kVtepPortBase].load(std::memory_order_acquire));
    }

private:
    std::array<std::atomic<std::uint32_t>, kMaxVteps> ips_{};  // 0: free
};

}  // namespace dpdock::vxlan
