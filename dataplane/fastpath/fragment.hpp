// Fitting a routed packet to its egress link, as Linux's ip_finish_output
// does: a super-frame is segmented (or passed on whole to a port that takes
// the offload), a partial checksum completed, and an IPv4 datagram above the
// link MTU without DF cut into fragments (rte_ipv4_fragment_packet; pieces
// share the payload through indirect mbufs). Datagrams with DF never get
// here too big: check_forward (icmp_error.hpp) answers them with
// fragmentation needed. Every piece carries the packet's PacketMeta and port.
// Worker-only code: mbufs from the worker's pools.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/fastpath/egress_offload.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// At most this many pieces come out of one packet (egress_offload.hpp).
inline constexpr unsigned kMaxEgressPieces = kMaxGsoSegments;

// The cheap test every routed packet pays: true when `m` (IPv4 header at
// `l3_offset`) may need fit_to_mtu for an egress MTU of `mtu`.
inline bool needs_fitting(const rte_mbuf* m, std::uint32_t l3_offset, std::uint32_t mtu) {
    return has_tx_offload(m) || rte_pktmbuf_pkt_len(m) > l3_offset + mtu;
}

// Turns `m` into pieces that fit: in `out`, returns how many. `takes_offloads`:
// the egress port takes offload metadata (a super-frame whose segments fit goes
// whole). 0: `m` was dropped and counted (offload_failed; mtu_exceeded when it
// cannot be fragmented: DF, not IPv4, no mbufs, more than kMaxEgressPieces).
unsigned fit_to_mtu(WorkerContext& ctx, rte_mbuf* m, std::uint32_t l3_offset, std::uint32_t mtu, bool takes_offloads,
                    rte_mbuf** out);

}  // namespace dpdock::dataplane
