// The worker side of a kernel port (dataplane/kernel_port/kernel_port.hpp):
// moving frames between the port's packet socket and its net_ring ethdev.
// The worker that polls the port's rx queue receives from the socket into the
// rx ring just before its rte_eth_rx_burst; worker i sends what its tx queue i
// (a ring) holds to the socket after its tx flush. Batched: one recvmmsg /
// sendmmsg per port and loop iteration. These system calls are the one
// exception to "no syscalls in fastpath/": they are the port's I/O.
// Nothing here allocates except mbufs; no locks (the socket is shared by the
// workers only for sending, which the kernel serialises).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/kernel_port/vnet_header.hpp"
#include "base/packet/net_types.hpp"

namespace dpdock::dataplane {

struct WorkerContext;

// What workers need of one kernel port; immutable while the port is published.
struct KernelPortIo {
    int fd = -1;
    PortId port = kNoPort;
    rte_ring* rx_ring = nullptr;        // socket -> ethdev rx queue 0; producer and consumer: the polling worker
    std::vector<rte_ring*> tx_rings;    // ethdev tx queue i -> socket; producer and consumer: worker i
};

// The largest frame a kernel port receives or sends: a 64 KiB GSO super-frame
// (IPv4 total length <= 65535) behind an Ethernet header and one VLAN tag.
inline constexpr std::uint32_t kKernelMaxFrame = 65535 + 18;
inline constexpr unsigned kKernelBatch = 32;     // frames per recvmmsg / sendmmsg
inline constexpr unsigned kKernelMaxTxSegs = 64;  // mbuf segments of one frame sent (64 KiB in 2 KiB mbufs: 33)
// Receive slots that hold mbufs for a whole kKernelMaxFrame (33 of 2 KiB):
// their frames arrive straight in the mbufs' data areas, one iovec entry per
// mbuf, with no copy. The other slots hold one mbuf and a 64 KiB spill area
// copied into chained mbufs afterwards. 8 of 32 keeps what a worker parks at
// 8 * 33 + 24 = 288 mbufs (3.5% of the default pool), while a super-frame
// copy is rare: the socket is read every loop, so a call seldom returns more
// than 8 super-frames.
inline constexpr unsigned kKernelScatterSlots = 8;

// One worker's buffers for the socket calls, shared by all its kernel ports.
// Receiving and sending have their own: a receive slot's iovec stays as it
// is between calls and is rewritten only when its mbufs were taken.
struct KernelPortScratch {
    KernelPortScratch()
        : spill(new std::uint8_t[std::size_t{kKernelBatch - kKernelScatterSlots} * kKernelMaxFrame]) {}
    ~KernelPortScratch();
    KernelPortScratch(const KernelPortScratch&) = delete;
    KernelPortScratch& operator=(const KernelPortScratch&) = delete;

    // Sending.
    std::array<mmsghdr, kKernelBatch> msgs{};
    std::array<std::array<iovec, kKernelMaxTxSegs + 1>, kKernelBatch> iov{};
    std::array<VnetHeader, kKernelBatch> hdrs{};
    std::array<rte_mbuf*, kKernelBatch> pkts{};

    // Receiving: slot i, once set up, has count[i] places bufs[i][k] for
    // fresh mbufs, each listed by rx_iov[i][1 + k] after the virtio-net header
    // (and the spill area, beyond the scatter slots). A frame takes the first
    // ones, [0, taken[i]); the refill puts new mbufs in those places and
    // rewrites only their entries.
    std::array<mmsghdr, kKernelBatch> rx_msgs{};
    std::array<std::array<iovec, kKernelMaxTxSegs + 1>, kKernelBatch> rx_iov{};
    std::array<VnetHeader, kKernelBatch> rx_hdrs{};
    std::array<std::array<rte_mbuf*, kKernelMaxTxSegs>, kKernelBatch> bufs{};
    std::array<unsigned, kKernelBatch> count{};
    std::array<unsigned, kKernelBatch> taken{};
    std::unique_ptr<std::uint8_t[]> spill;
};

// Socket -> rx ring, as much as the ring has room for (one batch at most).
void kernel_port_receive(WorkerContext& ctx, const KernelPortIo& io);

// This worker's tx ring -> socket.
void kernel_port_transmit(WorkerContext& ctx, const KernelPortIo& io);

}  // namespace dpdock::dataplane
