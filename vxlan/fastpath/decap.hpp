// VXLAN decapsulation on the worker: recognising VXLAN for this host in an
// uplink packet, identifying its network (by VNI) and sender (a peer VTEP, or
// one learned when learning is on), and stripping the outer headers so the
// inner frame can be bridged. Returns verdicts; the engine's uplink path
// (dataplane/fastpath/overlay_decap.cpp) acts on them. Worker-only code.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/net_types.hpp"
#include "base/packet/packet_meta.hpp"
#include "vxlan/segments.hpp"

namespace dpdock::vxlan {

class VtepTable;

// UDP to `host` at the VXLAN port of `settings`: ours to decapsulate or drop.
// Fragments are not reassembled (a VTEP sends them only with DF clear and an
// underlay MTU too small for the overlay's): they take the uplink's path.
bool is_for_this_vtep(const rte_mbuf* m, const PacketMeta& meta, Ipv4Address host, const Settings& settings);

// What decapsulation made of a packet: the inner frame's network and sender
// VTEP pseudo port, or why it was refused (the caller drops it).
struct Decapsulated {
    NetworkId network = kNoNetwork;
    PortId vtep = kNoPort;
    DropReason refused = DropReason::Count;  // Count: accepted

    bool accepted() const { return refused == DropReason::Count; }
};

// Decapsulates `m`, a packet is_for_this_vtep() accepted: on success the
// mbuf holds the inner frame, parsed into its PacketMeta with network and
// ingress port set. `now` dates a sender learned into `vteps` (learned peers
// are bounded and aged: spoofed sources cannot keep their slots).
Decapsulated decapsulate(rte_mbuf* m, const Segments& segments, const Settings& settings, VtepTable& vteps,
                         std::uint64_t now);

}  // namespace dpdock::vxlan
