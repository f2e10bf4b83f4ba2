// Published ports on a worker (Docker's DNAT rules and their hairpin
// MASQUERADE): the first packet of a flow to a published host port creates a
// conntrack entry; every packet of the flow is then translated by it, the
// original direction towards the container, replies back to host:port.
// Worker-only code: no locks (beyond Conntrack's for a new flow), allocations or syscalls.
#pragma once

#include <cstdint>
#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/packet_meta.hpp"
#include "nat/conntrack.hpp"
#include "nat/fastpath/masquerade.hpp"
#include "nat/published_ports.hpp"

namespace dpdock::nat {

// What became of a packet addressed to the host address.
struct DnatVerdict {
    const PublishedRule* rule = nullptr;  // translated: deliver to rule->container_mac in rule->network
    std::optional<DropReason> drop;       // not translated and must be dropped (table full, no port)
};

// A TCP/UDP packet to a published host port: its destination becomes the
// container's address and port. `hairpin` (it came from a container): its
// source also becomes the target network's gateway and a host port, so the
// reply comes back through us. Neither field set: not a published port, untouched.
DnatVerdict dnat_original(Conntrack& ct, const PortMap& ports, rte_mbuf* m, const PacketMeta& meta,
                          const Tracked& t, bool hairpin, std::uint64_t now);

// A packet from a container answering a published flow: source back to the
// host address and port (and, for hairpin, destination back to the client).
// The flow's entry (its mac/network: where the reply goes, kNoNetwork = the
// uplink), or nullptr, untouched.
const Entry* dnat_reply(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta, const Tracked& t, std::uint64_t now);

}  // namespace dpdock::nat
