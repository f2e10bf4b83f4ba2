// The pipeline micro-benchmarks' rig: one worker's loop (worker_poll) driven
// by the benchmark thread over two ring ports wired into a loop. Port `in` is
// the one the worker polls; what port `out` transmits is what `in` receives
// next, so a fixed set of mbufs circulates and stays cache-warm the way a
// PMD's mempool cache keeps them. Before each timed iteration the generator
// step (not timed) rewrites the burst about to be received from the
// topology's traffic, as a memif or NIC rx would. A burst is kPipelineBurst
// packets (full, the worker saturated) unless set_burst() asks for fewer: a
// worker that keeps up with its port receives partial bursts, and what each
// iteration costs whatever its size then weighs on every packet. A topology (L2 bridge,
// VXLAN encap/decap, DNAT, SNAT) decides the ports' roles, the forwarding snapshot,
// the tables and the traffic; the rest is shared. Benchmark thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bridge/mac_table.hpp"
#include "exception/punt_rings.hpp"
#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/worker_context.hpp"
#include "base/sync/rcu.hpp"
#include "base/sync/snapshot.hpp"
#include "nat/conntrack.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::bench {

inline constexpr unsigned kPipelineBurst = 32;

// What the generator sends: packet i is `frame` with vary(i % period, bytes)
// applied (its per-packet fields: addresses, ports, checksums).
struct Traffic {
    std::vector<std::uint8_t> frame;
    std::function<void(std::uint32_t, std::uint8_t*)> vary;
    std::uint32_t period = 1;
};

enum class Topology {
    L2,          // arg: source MACs to one static destination, both ports members of one network
    VxlanEncap,  // arg: peer VTEPs; 100 remote MACs (static fdb) spread over them, out of the uplink
    VxlanDecap,  // arg: other overlay networks; VXLAN from one peer into the uplink, inner frames to a static MAC on a member port
    Dnat,        // arg: published ports; 10,000 UDP flows from outside, into the uplink, spread over them
    Snat,        // arg: flows; UDP from a container port to the gateway, MASQUERADE out of the uplink
    SnatNetworks,  // arg: other networks on the host; Snat's traffic with 1,000 flows
};

struct PipelineRig {
    rte_mempool* pool = nullptr;
    rte_ring* loop = nullptr;  // out's tx = in's rx
    PortId in = kNoPort;       // the port the worker polls
    PortId out = kNoPort;      // where the topology's forwarded packets leave
    std::unique_ptr<sync::Rcu> rcu;
    std::unique_ptr<sync::Snapshot<dataplane::ForwardingSnapshot>> snapshot;
    std::unique_ptr<bridge::MacTable> macs;
    std::unique_ptr<vxlan::VtepTable> vteps;
    std::unique_ptr<nat::Conntrack> conntrack;
    std::unique_ptr<nat::RuleCounters> rule_counters;
    std::unique_ptr<sync::WorkerCounters> counters;
    std::unique_ptr<exception::PuntRings> punt_rings;  // with the exception path on
    std::atomic<bool> stop{false};
    dataplane::WorkerContext ctx;
    Traffic traffic;
    std::vector<rte_mbuf*> order;  // the circulating mbufs in ring order
    std::uint32_t next_packet = 0;
    std::size_t cursor = 0;
    unsigned burst = kPipelineBurst;  // packets received per iteration

    // The generator's part: the next burst to be received becomes the next
    // packets of the traffic, arriving on port `in`.
    void prepare_burst();
    // Packets per received burst from now on (1..kPipelineBurst; the worker's
    // tx buffers keep kPipelineBurst, dpdockd's `burst`).
    void set_burst(unsigned packets);
};

// The rig of a topology and argument, built (tables filled, every flow seen
// once, every packet checked to leave by `out`) on first use and kept for the
// run; nullptr with `error` set when it cannot be built. `exception`: the
// exception path on, as dpdockd runs it with one worker: a third ring port as
// dpdock0 (role Host) polled by the worker, which also drains the punt rings.
PipelineRig* pipeline_rig(Topology topology, std::uint32_t arg, std::string* error, bool exception = false);

// Topology-specific part of building a rig (pipeline_topologies.cpp): roles of
// rig.in and rig.out, networks, uplink, static MACs, VTEPs, conntrack, the
// traffic. rig.macs exists (capacity from mac_capacity()); the snapshot is
// published by the caller.
Status setup_topology(PipelineRig& rig, Topology topology, std::uint32_t arg, dataplane::ForwardingSnapshot& snap);
std::uint32_t mac_capacity(Topology topology, std::uint32_t arg);

}  // namespace dpdock::bench
