// RingPort: a real ethdev port whose wire is a pair of rte_ring sets, so a
// test can put frames on a port's rx side and read back what was sent on its
// tx side with the ordinary rte_eth_rx_burst/rte_eth_tx_burst calls in between.
// One thread injects and one thread drains (the rings are single-producer,
// single-consumer); the port itself may be polled from a worker lcore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::test {

struct RingPortOptions {
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;
    unsigned ring_size = 1024;     // packets each ring holds
    rte_mempool* pool = nullptr;   // when set, the port is configured with these queues and started
};

class RingPort {
public:
    // The ethdev is named "net_ring_<name>"; `name` must be unique among live ports.
    static Result<std::unique_ptr<RingPort>> create(const std::string& name, const RingPortOptions& options = {});
    // Removes the port unless someone else already did, then frees the rings
    // and any mbufs still in them.
    ~RingPort();
    RingPort(const RingPort&) = delete;
    RingPort& operator=(const RingPort&) = delete;

    PortId port() const { return port_; }
    const std::string& device_name() const { return device_name_; }

    // Takes every mbuf: those that fit are queued for the port's rx queue
    // `queue`, the rest are freed. Returns how many were queued.
    unsigned inject(const std::vector<rte_mbuf*>& packets, std::uint16_t queue = 0);
    // What the port transmitted on tx queue `queue` (or on all queues), oldest
    // first; the caller owns the mbufs.
    std::vector<rte_mbuf*> drain_tx(std::uint16_t queue);
    std::vector<rte_mbuf*> drain_tx();

private:
    RingPort() = default;

    PortId port_ = kNoPort;
    std::string device_name_;
    std::vector<rte_ring*> rx_rings_;
    std::vector<rte_ring*> tx_rings_;
};

}  // namespace dpdock::test
