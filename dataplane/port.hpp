// One ethdev port through its life: probe from devargs (any DPDK vdev or
// device), configure queues and start, read stats, stop/close/remove.
// Control thread only. A port must be out of every worker's hands (no rx/tx
// in flight) before remove_port(); its id is reused by the next probe at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::dataplane {

struct PortOptions {
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;  // one per worker, so workers never share a tx queue
    std::uint16_t rx_ring = 1024;  // descriptors; clamped to what the device accepts
    std::uint16_t tx_ring = 1024;
    rte_mempool* pool = nullptr;  // rx buffers
    std::uint32_t mtu = 0;        // 0 keeps the device's MTU
};

struct PortStats {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_missed = 0;  // dropped by the device: rx ring full
    std::uint64_t rx_errors = 0;
    std::uint64_t tx_errors = 0;
    std::uint64_t rx_nombuf = 0;  // rx failed for want of an mbuf
    // Per configured queue (the first RTE_ETHDEV_QUEUE_STAT_CNTRS of them),
    // where the driver counts per queue; empty where it does not.
    std::vector<std::uint64_t> rx_queue_packets;
    std::vector<std::uint64_t> tx_queue_packets;
};

// `devargs` is "<device name>[,key=value...]", e.g.
// "net_af_packet_dk1,iface=dk1,qpairs=2". A name that already exists is
// refused (DPDK would report success without probing anything).
Result<PortId> probe_port(const std::string& devargs);

// How many rx queues the port must have configured and polled, given the
// `tx_queues` it gets (one per worker): 1, except for drivers that spread
// received packets over every queue they were probed with (af_packet), and
// net_tap, which refuses fewer rx queues than tx queues.
std::uint16_t rx_queues_needed(PortId port, std::uint16_t tx_queues);

// Whether the device answers a flow on the rx queue that shares a descriptor
// with the tx queue the flow was last sent on (net_tap: tx and rx queue q are
// one file of the TAP, and the kernel's automatic queue selection sends a
// flow's packets to the queue its other direction was written on). Such a
// port's rx queue q belongs to worker q, who sends on tx queue q, or a flow
// would move between workers at every round trip and be reordered.
bool rx_queue_follows_tx(PortId port);

Status configure_and_start_port(PortId port, const PortOptions& options);

// Stops, closes and removes the device, also when it was never started.
Status remove_port(PortId port);

Result<PortStats> read_port_stats(PortId port);
std::string port_name(PortId port);  // empty for an unknown id
MacAddress port_mac(PortId port);    // zero for an unknown id
bool link_up(PortId port);
// Whether the port was configured to take TCP segmentation and L4 checksum
// offload metadata (its device offers them, and chained mbufs).
bool takes_tx_offloads(PortId port);
// Per rx queue of a started port, a descriptor that is readable while the
// queue has packets (net_tap's queues), else -1: what an idle worker waits on.
std::vector<int> rx_wake_fds(PortId port, std::uint16_t rx_queues);

}  // namespace dpdock::dataplane
