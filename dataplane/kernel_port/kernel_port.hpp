// A container's veth host end as a dpdock port, replacing DPDK 22.11's
// net_af_packet: one packet socket per port, bound to the interface before it
// can receive anything (opened with protocol 0, bound with ETH_P_ALL and the
// ifindex), no fanout (so no DEFRAG: fragments pass as they are), frames up to
// 64 KiB with the kernel's virtio-net header, so GSO super-frames and partial
// checksums cross whole (vnet_header.hpp). The port's PortId, tx buffers and
// counters are a net_ring ethdev's (rte_eth_from_rings): one rx ring the
// polling worker fills from the socket, one tx ring per worker that worker
// empties into the socket (fastpath/kernel_port_io.hpp). Created and destroyed
// by the control thread; workers see it only through KernelPortIo.
#pragma once

#include <memory>
#include <string>

#include "dataplane/kernel_port/fastpath/kernel_port_io.hpp"
#include "base/util/status.hpp"

namespace dpdock::dataplane {

class KernelPort {
public:
    // Opens the socket on `ifname` (of the daemon's namespace) and creates the
    // ethdev with `tx_queues` tx rings (one per worker) of `ring_size` slots.
    // The ethdev is neither configured nor started.
    static Result<std::unique_ptr<KernelPort>> open(const std::string& ifname, std::uint16_t tx_queues,
                                                    unsigned ring_size);
    // Closes the socket and frees the rings and the mbufs left in them. The
    // ethdev must already be removed (dataplane::remove_port).
    ~KernelPort();
    KernelPort(const KernelPort&) = delete;
    KernelPort& operator=(const KernelPort&) = delete;

    PortId port() const { return io_.port; }
    const KernelPortIo& io() const { return io_; }
    MacAddress mac() const { return mac_; }  // the interface's, read at open

private:
    KernelPort() = default;
    KernelPortIo io_;
    MacAddress mac_;
};

}  // namespace dpdock::dataplane
