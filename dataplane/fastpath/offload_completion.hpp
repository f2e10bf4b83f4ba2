// Sending to a port that does not take offloads. Packets from kernel ports can
// carry a partial checksum or be GSO super-frames (kernel_port/vnet_header.hpp);
// a kernel port passes them on as they are (the receiving kernel finishes
// them), any other port (a container's TAP, a raw DPDK port in a network) gets
// them finished here: IPv4 TCP super-frames segmented with rte_gso, checksums
// computed in software. Other super-frames (IPv6, UDP GSO: rte_gso 22.11 has no
// such segmentation) are dropped as offload_failed. Worker-only code.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/bridge/network.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

inline constexpr std::uint64_t kOffloadRequests =
    RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;

// A 64 KiB super-frame in MSS-sized segments, with room to spare.
inline constexpr unsigned kMaxFinishedSegments = 64;

// Finishes what `m` asks of the device (nothing without offload flags): its
// checksums, or it is segmented. `m` must not be shared. Returns how many
// packets are now in `out` (the segments, or m itself); 0 when m was dropped.
unsigned finish_offloads(WorkerContext& ctx, rte_mbuf* m, rte_mbuf* (&out)[kMaxFinishedSegments]);

// Finishes `m` and queues it, or its segments, on `port`.
void send_finished(WorkerContext& ctx, PortId port, rte_mbuf* m);

// tx.send(port, m) where the port takes m as it is; send_finished otherwise.
inline void send_to_port(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, PortId port, rte_mbuf* m) {
    if ((m->ol_flags & kOffloadRequests) == 0 || snap.ports[port].takes_offloads) {
        ctx.tx.send(port, m);
    } else {
        send_finished(ctx, port, m);
    }
}

}  // namespace dpdock::dataplane
