#include "dataplane/kernel_port/kernel_port.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>

namespace dpdock::dataplane {
namespace {

// Socket buffers large enough for a window of 64 KiB super-frames (the
// default 208 KiB holds three). Set with the *FORCE options: the daemon runs
// with CAP_NET_ADMIN, and rmem_max would cap the plain ones.
constexpr int kSocketBuffer = 8 << 20;

std::atomic<unsigned> ring_serial{0};

std::string errno_text(int err) { return std::strerror(err); }

Status set_option(int fd, int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0) {
        return Status::error(std::string("cannot set ") + what + ": " + errno_text(errno));
    }
    return {};
}

// The socket hears nothing until bind(): protocol 0 registers no packet
// handler, so frames of other interfaces can never queue on it (DPDK's
// af_packet opened with ETH_P_ALL, then bound: a window that leaked them).
Result<int> open_socket(const std::string& ifname) {
    using R = Result<int>;
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) return R::error("no interface " + ifname + ": " + errno_text(errno));
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return R::error("cannot open a packet socket: " + errno_text(errno));
    const auto fail = [&](const Status& st) {
        close(fd);
        return R::error(ifname + ": " + st.message());
    };
    for (const auto& [level, name, value, what] :
         {std::tuple{SOL_PACKET, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"},
          // Frames we send must not come back to us as received.
          std::tuple{SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"},
          std::tuple{SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS"},
          std::tuple{SOL_SOCKET, SO_RCVBUFFORCE, kSocketBuffer, "SO_RCVBUFFORCE"},
          std::tuple{SOL_SOCKET, SO_SNDBUFFORCE, kSocketBuffer, "SO_SNDBUFFORCE"}}) {
        if (auto st = set_option(fd, level, name, value, what); !st) return fail(st);
    }
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return fail(Status::error("cannot bind the packet socket: " + errno_text(errno)));
    }
    // Nothing can be queued yet (see above); drained anyway, so that the
    // port's first frame is one received after bind() whatever the kernel does.
    char discard[64];
    while (recv(fd, discard, sizeof discard, MSG_DONTWAIT | MSG_TRUNC) >= 0) {
    }
    return fd;
}

// The interface's own MAC: the net_ring ethdev has none (all zero), and an
// uplink answers ARP with its port's MAC.
Result<MacAddress> interface_mac(int fd, const std::string& ifname) {
    ifreq req{};
    if (ifname.size() >= sizeof req.ifr_name) return Result<MacAddress>::error("interface name too long: " + ifname);
    std::memcpy(req.ifr_name, ifname.c_str(), ifname.size() + 1);
    if (ioctl(fd, SIOCGIFHWADDR, &req) != 0) {
        return Result<MacAddress>::error("cannot read the MAC of " + ifname + ": " + errno_text(errno));
    }
    std::array<std::uint8_t, 6> bytes{};
    std::memcpy(bytes.data(), req.ifr_hwaddr.sa_data, bytes.size());
    return MacAddress(bytes);
}

rte_ring* make_ring(const std::string& name, unsigned size) {
    return rte_ring_create(name.c_str(), size, static_cast<int>(rte_socket_id()),
                           RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

void free_ring(rte_ring* ring) {
    if (ring == nullptr) return;
    void* m = nullptr;
    while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(ring);
}

}  // namespace

Result<std::unique_ptr<KernelPort>> KernelPort::open(const std::string& ifname, std::uint16_t tx_queues,
                                                     unsigned ring_size) {
    using R = Result<std::unique_ptr<KernelPort>>;
    std::unique_ptr<KernelPort> kp(new KernelPort());
    auto fd = open_socket(ifname);
    if (!fd) return fd.status();
    kp->io_.fd = *fd;
    auto mac = interface_mac(*fd, ifname);
    if (!mac) return mac.status();
    kp->mac_ = *mac;

    const std::string prefix = "kp" + std::to_string(getpid() % 100000) + "_" + std::to_string(ring_serial++);
    kp->io_.rx_ring = make_ring(prefix + "r", ring_size);
    if (kp->io_.rx_ring == nullptr) return R::error("cannot create a ring for " + ifname + ": " + rte_strerror(rte_errno));
    for (std::uint16_t q = 0; q < tx_queues; ++q) {
        rte_ring* ring = make_ring(prefix + "t" + std::to_string(q), ring_size);
        if (ring == nullptr) return R::error("cannot create a ring for " + ifname + ": " + rte_strerror(rte_errno));
        kp->io_.tx_rings.push_back(ring);
    }
    const int port = rte_eth_from_rings(("kport_" + ifname).c_str(), &kp->io_.rx_ring, 1, kp->io_.tx_rings.data(),
                                        tx_queues, rte_socket_id());
    if (port < 0) return R::error("cannot create the ethdev of " + ifname + ": " + rte_strerror(rte_errno));
    kp->io_.port = static_cast<PortId>(port);
    return kp;
}

KernelPort::~KernelPort() {
    if (io_.fd >= 0) close(io_.fd);
    free_ring(io_.rx_ring);
    for (rte_ring* ring : io_.tx_rings) free_ring(ring);
}

}  // namespace dpdock::dataplane
