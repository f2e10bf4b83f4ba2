// Virtual reassembly for NAT (as VPP's ip4-sv-reassembly): only the first
// fragment of a datagram carries the L4 ports conntrack keys on, so its
// ports are remembered by (source, destination, protocol, IP id) and the
// later fragments take the same key, hence the same flow and translation
// (addresses only: their bytes are payload, and the L4 checksum in the first
// fragment covers the whole datagram). Nothing is held or copied: fragments
// pass one by one. A later fragment that arrives before its first (rare on
// one link) finds no key and is dropped (fragment_unmatched), as are those
// of a datagram older than kLifetime or pushed out by a colliding one.
// Per worker: fragments of one datagram arrive on one port, and flow
// spreading hands them all to one worker (dataplane/fastpath/spread.hpp).
// Fixed size, no allocation; worker-only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <rte_mbuf.h>

#include "base/packet/packet_meta.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::nat {

class FragmentTable {
public:
    static constexpr std::size_t kSlots = 256;  // datagrams in flight per worker (direct-mapped)

    // The conntrack key of `m` as flow_key_of (masquerade.hpp) gives it,
    // fragments included: a first fragment's is remembered, a later one's
    // recalled. `now` and `lifetime` in the same ticks (TSC in the daemon).
    std::optional<FlowKey> key_of(rte_mbuf* m, const PacketMeta& meta, std::uint64_t now, std::uint64_t lifetime);

private:
    struct Slot {
        std::uint32_t src_ip = 0, dst_ip = 0;  // wire order
        std::uint16_t ip_id = 0;
        std::uint8_t proto = 0;
        bool used = false;
        std::uint16_t src_port = 0, dst_port = 0;  // the first fragment's, wire order
        std::uint64_t expires = 0;
    };
    std::array<Slot, kSlots> slots_{};
};

}  // namespace dpdock::nat
