// Per-worker counters. Each block has exactly one writer (its worker), which
// updates with relaxed atomic stores; the control thread sums the blocks with
// relaxed loads. "stats clear" never writes worker memory: the control side
// keeps a baseline and subtracts it (see CounterBaseline).
#pragma once

#include <array>
#include <cstdint>

#include <rte_build_config.h>
#include <rte_common.h>

#include "base/packet/drop_reason.hpp"

namespace dpdock::sync {

inline constexpr unsigned kMaxPorts = RTE_MAX_ETHPORTS;

// Single-writer increment: a plain read of our own value, an atomic store so
// that readers on other threads never see a torn or raced value.
inline void bump(std::uint64_t& counter, std::uint64_t n = 1) {
    __atomic_store_n(&counter, counter + n, __ATOMIC_RELAXED);
}
inline std::uint64_t load(const std::uint64_t& counter) { return __atomic_load_n(&counter, __ATOMIC_RELAXED); }

struct PortCounters {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    // Packets dropped after being received on this port, by reason (a
    // full egress tx ring too: the ingress port is where the traffic came from).
    std::array<std::uint64_t, kDropReasonCount> drops{};

    std::uint64_t total_drops() const {
        std::uint64_t sum = 0;
        for (std::uint64_t d : drops) sum += d;
        return sum;
    }
    // Counting from a baseline: the counters since `earlier` was read.
    PortCounters& operator-=(const PortCounters& earlier) {
        rx_packets -= earlier.rx_packets;
        rx_bytes -= earlier.rx_bytes;
        tx_packets -= earlier.tx_packets;
        tx_bytes -= earlier.tx_bytes;
        for (std::size_t r = 0; r < kDropReasonCount; ++r) drops[r] -= earlier.drops[r];
        return *this;
    }
};

struct alignas(RTE_CACHE_LINE_SIZE) WorkerCounters {
    std::uint64_t loops = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t flooded = 0;           // packets replicated to a network's flood list
    std::uint64_t local_delivered = 0;   // addressed to the dataplane itself and consumed (ARP replies)
    std::uint64_t mac_learned = 0;
    std::uint64_t mac_moved = 0;
    std::uint64_t mac_table_full = 0;    // a new MAC could not be learned (capacity)
    std::uint64_t mac_static_conflict = 0;  // a static MAC seen on another port
    std::uint64_t busy_cycles = 0;       // TSC spent in iterations that had packets
    std::uint64_t busy_packets = 0;      // packets received or taken from other workers (spread_in) in those iterations
    std::uint64_t icmp_errors_sent = 0;        // ICMP errors the dataplane originated (time exceeded, frag needed)
    std::uint64_t icmp_errors_suppressed = 0;  // errors not sent: over the rate limit, or no mbuf
    // Egress fix-ups (egress_offload.hpp): packets whose partial L4 checksum was
    // completed in software, TCP super-frames segmented and the segments made.
    std::uint64_t checksum_completed = 0;
    std::uint64_t gso_frames = 0;
    std::uint64_t gso_segments = 0;
    // Egress fragmentation (fragment.hpp): datagrams above the egress MTU
    // without DF, and the fragments made of them.
    std::uint64_t fragmented = 0;
    std::uint64_t fragments_made = 0;
    // Kernel ports (dataplane/kernel_port): GSO super-frames received from
    // and handed whole to container sockets, packets received with a partial
    // (pseudo-header only) checksum.
    std::uint64_t kernel_gso_rx = 0;
    std::uint64_t kernel_gso_tx = 0;
    std::uint64_t kernel_partial_csum_rx = 0;
    // Their system calls: recvmmsg calls, those that returned nothing, and
    // frames received; sendmmsg calls and frames sent (the cost per packet).
    std::uint64_t kernel_rx_calls = 0;
    std::uint64_t kernel_rx_empty_calls = 0;
    std::uint64_t kernel_rx_frames = 0;
    std::uint64_t kernel_tx_calls = 0;
    std::uint64_t kernel_tx_frames = 0;
    // Exception path (exception/): packets this worker handed to the host's
    // kernel (its punt ring), and packets the kernel sent into the dataplane.
    std::uint64_t punted = 0;
    std::uint64_t from_host = 0;
    // Flow spreading (dataplane/fastpath/spread.hpp): packets this worker
    // received and handed to the worker owning their flow, and packets it
    // took from other workers and forwarded.
    std::uint64_t spread_out = 0;
    std::uint64_t spread_in = 0;
    // Idle waits (dataplane/fastpath/idle_wait.hpp): waits, those a readable
    // descriptor ended (the rest timed out), TSC spent waiting; wakes whose
    // next poll received packets, by descriptor and by timeout (those packets
    // waited for the timer), and the TSC from such a wake to the first packet.
    std::uint64_t idle_waits = 0;
    std::uint64_t idle_fd_wakes = 0;
    std::uint64_t idle_cycles = 0;
    std::uint64_t idle_rx_fd_wakes = 0;
    std::uint64_t idle_rx_timeouts = 0;
    std::uint64_t idle_wake_to_rx_cycles = 0;
    std::array<std::uint64_t, kDropReasonCount> drops{};
    std::array<PortCounters, kMaxPorts> ports{};
};

// A consistent-enough copy of a WorkerCounters (each field read atomically).
WorkerCounters read_counters(const WorkerCounters& live);
// a += b, field by field.
void accumulate(WorkerCounters& total, const WorkerCounters& add);
// a -= b, field by field (for baselines).
void subtract(WorkerCounters& total, const WorkerCounters& baseline);

}  // namespace dpdock::sync
