// Dataplane: the running forwarding engine, owned by the control thread.
// It holds the mbuf pool, the RCU domain, the forwarding snapshot, the MAC
// table and the worker lcores, and it hot-plugs ports. Every method is called
// from the control thread only; workers see changes through publish().
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rte_mempool.h>

#include "bridge/mac_table.hpp"
#include "dataplane/forwarding_snapshot.hpp"
#include "l3/neighbour_table.hpp"
#include "dataplane/doorbells.hpp"
#include "dataplane/port.hpp"
#include "dataplane/spread_rings.hpp"
#include "dataplane/fastpath/worker_context.hpp"
#include "dataplane/kernel_port/kernel_port.hpp"
#include "base/sync/counters.hpp"
#include "base/sync/rcu.hpp"
#include "base/sync/snapshot.hpp"
#include "base/util/status.hpp"
#include "capture/capture_service.hpp"
#include "exception/punt_rings.hpp"
#include "dns/dns_service.hpp"
#include "nat/conntrack.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::dataplane {

// Next hops on the uplink's subnet that can be resolved at once.
inline constexpr std::uint32_t kNeighbourTableSize = 1024;

// The devargs prefix of a kernel port: "kernel:eth1" opens eth1 of the
// daemon's namespace as dpdock's own port (dataplane/kernel_port), with the
// kernel's offload metadata (virtio-net header), instead of a DPDK driver.
inline constexpr std::string_view kKernelPortDevargs = "kernel:";

struct DataplaneOptions {
    std::vector<unsigned> worker_lcores;  // one worker per lcore
    std::uint16_t burst = 32;
    std::uint32_t mbufs = 8191;
    std::uint16_t rx_ring = 1024;
    std::uint16_t tx_ring = 1024;
    std::uint32_t mac_table_size = 65536;
    std::uint32_t idle_sleep_us = 0;      // first idle sleep; 0: pure polling
    std::uint32_t idle_sleep_max_us = 0;  // idle sleeps double up to this
    std::uint32_t idle_poll_us = 0;       // polling after the last packet before the first sleep
    // Several workers share each port's packets (dataplane/fastpath/spread.hpp);
    // false: every packet of a port is forwarded by the worker that polls it.
    bool spread_flows = false;
    // MASQUERADE's table; name, hz, socket and qsbr are filled in by start().
    nat::ConntrackOptions conntrack;
    // Each worker's budget of ICMP errors (time exceeded, ...): per second (0: no limit) and burst.
    std::uint32_t icmp_errors_per_s = 1000;
    std::uint32_t icmp_errors_burst = 50;
};

struct PortRecord {
    std::string devargs;
    // The port's home worker, fixed for its life: it polls rx queue 0 (with
    // spreading off, every rx queue) and handles what is not IP (spread.hpp).
    unsigned worker = 0;
    std::uint16_t rx_queues = 1;
    // Port ids are reused at once after removal: the counters of the id's
    // previous owner, summed over workers when this port was added.
    sync::PortCounters baseline;
    std::uint64_t serial = 0;  // unique per add_port() in this process, unlike the port id
    std::unique_ptr<KernelPort> kernel;  // set for a kernel port (add_kernel_port)
    std::vector<int> wake_fds;           // per rx queue, what an idle worker waits on (-1: nothing)
    bool rx_queue_per_worker = false;    // rx queue q is worker q's (port.hpp, rx_queue_follows_tx)
};

class Dataplane {
public:
    static Result<std::unique_ptr<Dataplane>> start(const DataplaneOptions& options);
    ~Dataplane();  // stops the workers, removes every port
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    // Probes and starts a port (any DPDK devargs, or kKernelPortDevargs + an
    // interface name for a kernel port). It carries no traffic until
    // a published snapshot places it in a network. Whatever the device
    // received before that (a driver that heard other interfaces before it
    // was bound to its own) is discarded.
    Result<PortId> add_port(const std::string& devargs, std::uint32_t mtu);
    // Opens an interface of the daemon's namespace (a container's veth host
    // end) as a kernel port (dataplane/kernel_port/kernel_port.hpp).
    Result<PortId> add_kernel_port(const std::string& ifname, std::uint32_t mtu);
    // Removes a port: the caller must already have published a snapshot
    // without it. Waits a grace period, forgets its MACs, closes the device.
    Status remove_port(PortId port);
    const std::map<PortId, PortRecord>& ports() const { return ports_; }
    // A port's MAC: a kernel port's is its interface's (its net_ring ethdev has none).
    MacAddress port_mac(PortId port) const;

    // Fills the per-worker rx assignment (and each port's spreading) of `snap`
    // from the port records and publishes it; returns after the previous snapshot is unreachable.
    void publish(std::unique_ptr<dataplane::ForwardingSnapshot> snap);
    const dataplane::ForwardingSnapshot& current() const { return *snapshot_->read(); }

    bridge::MacTable& macs() { return *macs_; }
    nat::Conntrack& conntrack() { return *conntrack_; }
    const l3::NeighbourTable& neighbours() const { return *neighbours_; }
    vxlan::VtepTable& vteps() { return *vteps_; }
    dns::DnsService& dns() { return *dns_; }
    capture::CaptureService& capture() { return *capture_; }
    unsigned worker_count() const { return static_cast<unsigned>(contexts_.size()); }
    std::vector<unsigned> worker_lcores() const { return options_.worker_lcores; }
    // Each worker's counters, read atomically field by field.
    std::vector<sync::WorkerCounters> read_counters() const;
    // One port's counters summed over workers, since the port was added.
    sync::PortCounters port_counters(PortId port) const;
    // One NAT rule slot's counters summed over workers (since the start: the
    // caller keeps a baseline when it gives the slot to a new rule).
    nat::RuleCounter rule_counter(std::uint32_t slot) const;

private:
    explicit Dataplane(const DataplaneOptions& options);
    Status launch_workers();
    PortOptions port_options(std::uint16_t rx_queues, std::uint32_t mtu) const;
    // Gives a started port to the least loaded worker and records it.
    PortId register_port(PortId port, PortRecord record);
    void stop_workers();

    DataplaneOptions options_;
    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;  // payload references of segments and fragments
    std::unique_ptr<sync::Rcu> rcu_;
    std::unique_ptr<sync::Snapshot<dataplane::ForwardingSnapshot>> snapshot_;
    std::unique_ptr<bridge::MacTable> macs_;
    std::unique_ptr<l3::NeighbourTable> neighbours_;
    std::unique_ptr<nat::Conntrack> conntrack_;
    std::unique_ptr<vxlan::VtepTable> vteps_;
    std::unique_ptr<capture::CaptureService> capture_;  // `dpdock capture` (its tap is in every worker's context)
    std::unique_ptr<dns::DnsService> dns_;  // the embedded DNS thread (started before the workers)
    std::vector<std::unique_ptr<sync::WorkerCounters>> counters_;
    std::vector<std::unique_ptr<nat::RuleCounters>> rule_counters_;
    std::vector<std::unique_ptr<WorkerContext>> contexts_;
    std::vector<std::unique_ptr<KernelPortScratch>> kernel_scratch_;  // one per worker
    std::unique_ptr<exception::PuntRings> punt_rings_;  // one per worker, for the host's kernel
    std::unique_ptr<SpreadRings> spread_rings_;  // between every two workers; null: spreading off
    std::unique_ptr<Doorbells> doorbells_;       // one per worker, rung by those who hand it packets
    std::atomic<bool> stop_{false};
    bool workers_running_ = false;
    std::map<PortId, PortRecord> ports_;
    std::uint64_t next_serial_ = 1;
};

}  // namespace dpdock::dataplane
