// The read-mostly forwarding state workers see: which network each port is in,
// each network's flood list and gateway, and which ports each worker polls.
// Built whole by the control thread (control/state.cpp) and published through
// sync::Snapshot; immutable once published, so workers read it without locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/sync/counters.hpp"
#include "base/util/check.hpp"
#include "bridge/domain.hpp"
#include "dataplane/subnet_index.hpp"
#include "nat/published_ports.hpp"
#include "vxlan/segments.hpp"

namespace dpdock::dataplane {

struct KernelPortIo;

enum class PortRole : std::uint8_t {
    Unused,     // no port with this id, or it is being removed
    Container,  // host end of a container's veth or tap
    Member,     // a raw DPDK port in a network (NIC, memif, ring)
    Uplink,     // the port to the outside world; in no network
    Host,       // the exception interface (dpdock0): the host's kernel; in no network
};

struct PortInfo {
    PortRole role = PortRole::Unused;
    NetworkId network = kNoNetwork;
};

struct ArpEntry {
    Ipv4Address ip;
    MacAddress mac;
};

// A network: the bridge's part (gateway MAC and address, enable_icc, the
// members: bridge::Domain) and its L3, NAT and ARP-suppression settings.
struct NetworkInfo : bridge::Domain {
    Ipv4Cidr subnet;
    bool internal = false;        // no route out
    bool masquerade = true;       // traffic out through the uplink leaves from the host address
    std::uint32_t mtu = 1500;     // largest IPv4 packet routed into the network
    std::uint32_t masquerade_slot = nat::kNoRuleSlot;  // counters of its MASQUERADE rule
    // ARP suppression: requests for these addresses are answered on the spot,
    // sorted by address (local containers and static remote entries).
    bool arp_suppression = false;
    std::vector<ArpEntry> arp_entries;
};

struct RxQueue {
    PortId port = kNoPort;
    std::uint16_t queue = 0;
    const dataplane::KernelPortIo* kernel = nullptr;  // its socket is read into the queue before each poll
    // Readable while packets wait for the queue (a kernel port's socket, a
    // TAP's queue): the idle worker wakes on it (fastpath/idle_wait.hpp). -1: none.
    int wake_fd = -1;
};

// How the packets a port receives are shared among workers (Dataplane::publish,
// dataplane/fastpath/spread.hpp). Flows: one rx queue, polled by `home`, which
// hands each IP flow to the worker its flow hash names. Queues: several rx
// queues, polled by different workers (the device spreads flows over them).
// In both, frames that are not IP (ARP) are handled by `home`, so the uplink's
// neighbour table keeps its one writer.
enum class SpreadMode : std::uint8_t { Off, Flows, Queues };

struct PortSpread {
    SpreadMode mode = SpreadMode::Off;
    std::uint8_t home = 0;  // the worker that polls rx queue 0
};

struct UplinkInfo {
    PortId port = kNoPort;
    MacAddress mac;                  // the port's own MAC
    Ipv4Cidr address;                // the host's address and prefix
    Ipv4Address gateway;             // next hop for everything off the uplink's subnet
    std::uint64_t arp_timeout_ticks = 0;  // a confirmed neighbour is trusted this long (TSC)
    std::uint64_t arp_retry_ticks = 0;    // an unanswered ARP request is repeated after this long
    std::optional<MacAddress> gateway_mac;  // configured: `gateway` is never asked for, never ages
    std::uint32_t mtu = 1500;             // largest IPv4 packet routed out of the uplink
};

// The exception interface (dpdock0, exception/): the host's kernel holds the
// uplink address and the gateways there. What the dataplane does not serve
// for those addresses is punted to it; what it sends enters at `port`.
struct HostInfo {
    PortId port = kNoPort;
    MacAddress kernel_mac;  // the kernel interface's MAC: frames punted to it are addressed to it
    unsigned worker = 0;    // the worker polling `port`: it drains every worker's punt ring
    std::uint32_t punt_rate = 0;   // packets a second each worker may punt (0: no limit)
    std::uint32_t punt_burst = 0;
};

// A number no other ForwardingSnapshot of the process has had, copies
// included: a worker's caches of values derived from a snapshot (the VXLAN
// outer header templates) tell by it that theirs was replaced. Never 0.
class SnapshotSerial {
public:
    SnapshotSerial() : value_(next()) {}
    SnapshotSerial(const SnapshotSerial&) : value_(next()) {}
    SnapshotSerial& operator=(const SnapshotSerial&) {
        value_ = next();
        return *this;
    }
    std::uint64_t value() const { return value_; }
    // A snapshot changed in place (test harnesses own theirs; a published one
    // never changes): what was derived from it is stale.
    void renew() { value_ = next(); }

private:
    static std::uint64_t next() {
        static std::atomic<std::uint64_t> last{0};
        return last.fetch_add(1, std::memory_order_relaxed) + 1;
    }
    std::uint64_t value_;
};

struct ForwardingSnapshot {
    SnapshotSerial serial;
    std::array<PortInfo, sync::kMaxPorts> ports{};
    std::vector<NetworkInfo> networks;            // indexed by NetworkId
    std::optional<UplinkInfo> uplink;
    std::optional<HostInfo> host;                 // exception path on: the kernel interface
    std::vector<std::vector<RxQueue>> rx_queues;  // per worker: the rx queues it polls
    std::array<PortSpread, sync::kMaxPorts> spread{};  // per port, filled with rx_queues
    std::vector<const dataplane::KernelPortIo*> kernel_ports;  // every worker sends its tx ring of each
    std::shared_ptr<const nat::PortMap> published;  // published ports; shared by snapshots while unchanged
    vxlan::Settings vxlan;     // the host's VTEP
    vxlan::Segments segments;  // overlay networks: VNI and peers, by network and by VNI
    SubnetIndex subnets;       // the networks' subnets by address (index_subnets)
    // Bit per port id: ports that take TCP segmentation and L4 checksum
    // offload metadata as it is (dataplane/fastpath/egress_offload.hpp).
    std::uint64_t offload_ports = 0;
    static_assert(sync::kMaxPorts <= 64, "offload_ports is a 64-bit mask");

    bool port_in_network(PortId port, NetworkId network) const {
        return port < ports.size() && ports[port].role != PortRole::Unused && ports[port].network == network;
    }
    // After `networks` is filled (or changed in place): what network_of searches.
    void index_subnets() {
        subnets.rebuild(networks, [](const NetworkInfo& n) { return n.subnet; });
    }
    // The network whose subnet holds `ip`, or kNoNetwork.
    NetworkId network_of(Ipv4Address ip) const {
        DPDOCK_DCHECK(subnets.indexed() == networks.size());
        return subnets.find(ip);
    }
};

}  // namespace dpdock::dataplane
