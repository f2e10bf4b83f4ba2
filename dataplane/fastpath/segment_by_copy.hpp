// Segmentation that DPDK 22.11's rte_gso does not offer: TCP over IPv6, and
// Linux's UDP segmentation (UDP_SEGMENT / USO, virtio-net GSO_UDP_L4) over
// IPv4 and IPv6, where every segment is a whole datagram with its own UDP
// header (rte_gso's UDP mode makes IP fragments instead). Each segment's
// payload is copied into fresh mbufs of the packet pool and the headers are
// written in front of it: these super-frames are rare (IPv6 TCP into a
// tunnel, QUIC-style senders), so one copy buys code that needs no indirect
// mbufs and no per-protocol layout of rte_gso. The result matches Linux's
// own segmentation (tcp_gso_segment, __udp_gso_segment): sequence numbers
// advanced by the MSS, CWR only on the first segment, FIN/PSH only on the
// last, IPv4 ids incrementing, lengths written. Checksums and offload flags
// are the caller's, as for rte_gso's segments (egress_offload.cpp).
// Worker-only code: mbufs come from the worker's pool.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace dpdock::dataplane {

// Cuts super-frame `m` (RTE_MBUF_F_TX_TCP_SEG over IPv6, or
// RTE_MBUF_F_TX_UDP_SEG; l2/l3/l4_len and tso_segsz set, headers checked by
// the caller to lie in the first segment) into at most `max_out` packets
// in `out`, with `m`'s offload metadata and stale checksums. `m` is left
// untouched (the caller frees it). 0: the lengths do not allow it (more
// segments than `max_out`, headers larger than the headroom) or the pool
// ran dry; nothing is allocated then.
unsigned segment_by_copy(rte_mempool* pool, const rte_mbuf* m, rte_mbuf** out, unsigned max_out);

}  // namespace dpdock::dataplane
