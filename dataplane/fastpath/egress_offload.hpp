// Egress fix-ups for packets that carry transmit offload metadata (DPDK's
// mbuf tx-offload fields, set by a container port that reads the kernel's
// virtio-net header): a TCP super-frame (RTE_MBUF_F_TX_TCP_SEG, tso_segsz)
// and a partial L4 checksum (RTE_MBUF_F_TX_TCP_CKSUM / _UDP_CKSUM: the field
// holds only the pseudo-header sum, as Linux's CHECKSUM_PARTIAL leaves it).
// A port that takes the offloads gets such packets as they are; before any
// other port, and before VXLAN encapsulation, they are made whole here:
// IPv4 TCP super-frames cut by rte_gso into segments of the sender's MSS,
// IPv6 TCP and UDP (USO) super-frames by segment_by_copy, checksums
// completed in software. Packets without these flags pay one flags test.
// Worker-only code: mbufs come from the worker's pools, nothing else allocates.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/sync/counters.hpp"

namespace dpdock::dataplane {

inline constexpr std::uint64_t kTxOffloadFlags = RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;

// Whether `m` needs a port that takes offloads, or a fix-up first.
inline bool has_tx_offload(const rte_mbuf* m) { return (m->ol_flags & kTxOffloadFlags) != 0; }

// The most segments one super-frame may become: 64 KiB at the smallest MSS
// Linux uses without being asked for less (536 bytes) is 123.
inline constexpr unsigned kMaxGsoSegments = 128;

// Where segments come from: headers into `direct` (the packet pool),
// payloads attached by reference from `indirect`.
struct OffloadPools {
    rte_mempool* direct = nullptr;
    rte_mempool* indirect = nullptr;
};

// The IPv4 length `m` will have on the wire: its segments' for a TCP or
// UDP super-frame (headers + MSS), else the header's total length. MTU checks
// look at this, as Linux's skb_gso_validate_network_len does.
std::uint32_t egress_ipv4_length(const rte_mbuf* m, std::uint32_t total_length);

// Makes `m` (has_tx_offload) sendable by a port without offloads. Returns the
// packets to send in `out` (at most kMaxGsoSegments): `m` itself with its
// checksum completed, or the segments of a super-frame (then `m` is released:
// the segments hold its payload). The offload flags are cleared on what is
// returned. 0: `m` could not be fixed (bad lengths, unsupported offload, no
// mbufs); it is untouched and the caller drops it (offload_failed).
unsigned resolve_tx_offload(const OffloadPools& pools, sync::WorkerCounters& counters, rte_mbuf* m, rte_mbuf** out);

}  // namespace dpdock::dataplane
