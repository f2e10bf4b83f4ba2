// parse_packet(): the one pass over L2..L4 that every packet gets on rx. It
// fills PacketMeta in the mbuf private area so later stages never re-parse,
// and rejects malformed frames with DropReason::BadHeader. Headers must lie in
// the first segment; the IPv4/IPv6 lengths are checked against the whole
// frame (pkt_len), so chained jumbo frames parse as long as headers come first.
// Runs per packet on the worker that received the mbuf: no allocation, no
// locks, reads nothing outside the mbuf.
#pragma once

#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock {

// Fills packet_meta(m) (network = kNoNetwork; classify sets it) and returns
// nullopt when the frame is fine, else why it must be dropped. Meta is only
// meaningful when nullopt is returned.
std::optional<DropReason> parse_packet(rte_mbuf* m);

}  // namespace dpdock
