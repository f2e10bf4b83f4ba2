// CaptureTap: what the workers see of `dpdock capture`. While a capture is
// armed, a worker copies the packets it receives on the captured port (or on
// every port) with rte_pcapng_copy into the capture's pool and puts the
// copies on its own ring (SP/SC); the capture thread writes them to the
// pcapng file. Disarmed, it costs one relaxed load per burst. A full ring or
// an empty pool drops the copy (counted), never the packet.
// Worker code: no lock, no system call; the copy's allocation is an mbuf's.
#pragma once

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "base/packet/net_types.hpp"

namespace dpdock::capture {

inline constexpr unsigned kMaxWorkers = 64;
inline constexpr std::uint32_t kAllPorts = 0xffffffffu;

struct CaptureTap {
    // Set by the capture thread after pool and rings exist (release), read by workers (acquire).
    std::atomic<bool> armed{false};
    std::atomic<std::uint32_t> port{kAllPorts};
    rte_mempool* pool = nullptr;
    std::array<rte_ring*, kMaxWorkers> rings{};
    std::atomic<std::uint64_t> missed{0};  // copies lost: ring full or pool empty (rare: one shared add then)
};

// The received burst of `port`, queue `queue`, as worker `worker` saw it.
inline void capture_rx(CaptureTap& tap, unsigned worker, PortId port, std::uint16_t queue, rte_mbuf* const* pkts,
                       std::uint16_t n) {
    if (!tap.armed.load(std::memory_order_acquire)) return;
    const std::uint32_t wanted = tap.port.load(std::memory_order_relaxed);
    if ((wanted != kAllPorts && wanted != port) || worker >= kMaxWorkers) return;
    rte_mbuf* copies[256];
    unsigned made = 0;
    const std::uint64_t now = rte_get_tsc_cycles();
    for (std::uint16_t i = 0; i < n && made < 256; ++i) {
        rte_mbuf* c = rte_pcapng_copy(port, queue, pkts[i], tap.pool, UINT32_MAX, now, RTE_PCAPNG_DIRECTION_IN);
        if (c != nullptr) copies[made++] = c;
    }
    const unsigned queued = rte_ring_sp_enqueue_burst(tap.rings[worker], reinterpret_cast<void* const*>(copies), made,
                                                      nullptr);
    if (queued < made) rte_pktmbuf_free_bulk(copies + queued, made - queued);
    if (queued < n) tap.missed.fetch_add(n - queued, std::memory_order_relaxed);
}

}  // namespace dpdock::capture
