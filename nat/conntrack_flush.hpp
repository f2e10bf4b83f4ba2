// Flushing flows whose reason to exist went away, on the control thread:
// a removed network (its id is given to the next network created, which
// must inherit none of its flows) and a published port removed or moved to
// another container (its flows would go on reaching the old one, which is
// why Docker flushes UDP conntrack on re-publication). Each call scans the
// whole table and waits for an RCU grace period when it removed anything.
#pragma once

#include <cstdint>

#include "base/packet/net_types.hpp"
#include "nat/conntrack.hpp"
#include "nat/published_ports.hpp"

namespace dpdock::nat {

// Flows of containers in `network` (MASQUERADE, hairpin clients). Published
// flows towards its containers go with their rules (flush_rules).
std::uint32_t flush_network(Conntrack& ct, NetworkId network);

// Flows to the host ports of `rules` (from outside and hairpin), in one scan.
std::uint32_t flush_rules(Conntrack& ct, const PortMap& rules);

// Whether two rules translate the same host ports the same way (counter slot
// and container name aside).
bool same_translation(const PublishedRule& a, const PublishedRule& b);

}  // namespace dpdock::nat
