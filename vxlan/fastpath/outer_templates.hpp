// One worker's prebuilt outer headers, one per remote VTEP (indexed by its
// pseudo port, vtep_table.hpp), so that encapsulating a frame copies a cache
// line and writes the few fields that vary (vxlan_header.hpp: stamp) instead
// of composing the headers. A template is valid for the forwarding snapshot
// it was built from (its serial: the uplink's address and MAC, the gateway
// and its configured MAC, the VXLAN settings) and for the VTEP address and
// VNI it holds, which are checked on every use: a VTEP index freed and given
// to another address, or a VTEP shared by networks of different VNIs, only
// costs a rebuild. Worker-only: one per worker, never shared; no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "base/packet/net_types.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::vxlan {

class OuterTemplates {
public:
    // The slot for VTEP `port` (any other port id: a slot of its own, rebuilt
    // whenever it is used for another VTEP).
    OuterTemplate& slot(PortId port) { return is_vtep_port(port) ? slots_[port - kVtepPortBase] : other_; }

    // Whether `t` was built from the snapshot numbered `serial` towards `vtep` for `vni`.
    static bool holds(const OuterTemplate& t, std::uint64_t serial, Ipv4Address vtep, std::uint32_t vni) {
        return t.serial == serial && leads_to(t, vtep, vni);
    }

    // Builds `t` (see build_template) from the snapshot numbered `serial` (never 0).
    static void build(OuterTemplate& t, std::uint64_t serial, const OuterHeader& h, MacAddress src_mac,
                      const MacAddress* next_hop_mac) {
        build_template(t, h, src_mac, next_hop_mac);
        t.serial = serial;
    }

private:
    std::array<OuterTemplate, kMaxVteps> slots_{};  // 64 KiB
    OuterTemplate other_{};
};

}  // namespace dpdock::vxlan
