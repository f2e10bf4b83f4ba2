#include "tests/support/ring_ports.hpp"

#include <unistd.h>

#include <atomic>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>

#include "dataplane/port.hpp"

namespace dpdock::test {
namespace {

std::atomic<unsigned> ring_counter{0};

void free_ring(rte_ring* ring) {
    if (ring == nullptr) return;
    void* m = nullptr;
    while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(ring);
}

}  // namespace

Result<std::unique_ptr<RingPort>> RingPort::create(const std::string& name, const RingPortOptions& options) {
    using R = Result<std::unique_ptr<RingPort>>;
    if (options.rx_queues == 0 || options.tx_queues == 0) return R::error("a ring port needs rx and tx queues");
    std::unique_ptr<RingPort> rp(new RingPort());
    const unsigned id = ring_counter.fetch_add(1);
    auto make_rings = [&](std::vector<rte_ring*>& rings, std::uint16_t count, char kind) -> Status {
        for (std::uint16_t q = 0; q < count; ++q) {
            const std::string ring_name = "rp" + std::to_string(getpid()) + "_" + std::to_string(id) + kind +
                                          std::to_string(q);
            rte_ring* ring = rte_ring_create(ring_name.c_str(), options.ring_size, static_cast<int>(rte_socket_id()),
                                             RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
            if (ring == nullptr) {
                return Status::error("cannot create ring " + ring_name + ": " + rte_strerror(rte_errno));
            }
            rings.push_back(ring);
        }
        return {};
    };
    if (auto st = make_rings(rp->rx_rings_, options.rx_queues, 'r'); !st) return st;
    if (auto st = make_rings(rp->tx_rings_, options.tx_queues, 't'); !st) return st;

    const int port = rte_eth_from_rings(name.c_str(), rp->rx_rings_.data(), options.rx_queues, rp->tx_rings_.data(),
                                        options.tx_queues, rte_socket_id());
    if (port < 0) return R::error("cannot create ring port " + name + ": " + rte_strerror(rte_errno));
    rp->port_ = static_cast<PortId>(port);
    rp->device_name_ = dataplane::port_name(rp->port_);

    if (options.pool != nullptr) {
        dataplane::PortOptions po;
        po.rx_queues = options.rx_queues;
        po.tx_queues = options.tx_queues;
        po.pool = options.pool;
        if (auto st = dataplane::configure_and_start_port(rp->port_, po); !st) return st;
    }
    return rp;
}

RingPort::~RingPort() {
    // The port may already be gone (removed by the code under test) and its
    // id taken by another device: remove only what is still ours.
    if (port_ != kNoPort && dataplane::port_name(port_) == device_name_) dataplane::remove_port(port_);
    for (rte_ring* ring : rx_rings_) free_ring(ring);
    for (rte_ring* ring : tx_rings_) free_ring(ring);
}

unsigned RingPort::inject(const std::vector<rte_mbuf*>& packets, std::uint16_t queue) {
    unsigned queued = 0;
    if (queue < rx_rings_.size()) {
        queued = rte_ring_enqueue_burst(rx_rings_[queue], reinterpret_cast<void* const*>(packets.data()),
                                        static_cast<unsigned>(packets.size()), nullptr);
    }
    for (std::size_t i = queued; i < packets.size(); ++i) rte_pktmbuf_free(packets[i]);
    return queued;
}

std::vector<rte_mbuf*> RingPort::drain_tx(std::uint16_t queue) {
    std::vector<rte_mbuf*> out;
    if (queue >= tx_rings_.size()) return out;
    void* m = nullptr;
    while (rte_ring_dequeue(tx_rings_[queue], &m) == 0) out.push_back(static_cast<rte_mbuf*>(m));
    return out;
}

std::vector<rte_mbuf*> RingPort::drain_tx() {
    std::vector<rte_mbuf*> out;
    for (std::uint16_t q = 0; q < tx_rings_.size(); ++q) {
        auto part = drain_tx(q);
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

}  // namespace dpdock::test
