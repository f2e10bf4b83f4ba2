// Everything one worker lcore owns or reads while forwarding. One instance per
// worker, created by the control thread before the worker starts and not
// touched by it afterwards (except the stop flag and the counter reads).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include <rte_gso.h>
#include <rte_mbuf.h>

#include "bridge/fastpath/mac_cache.hpp"
#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/icmp_rate_limit.hpp"
#include "dataplane/fastpath/pending.hpp"
#include "dataplane/fastpath/tx_buffer.hpp"
#include "base/packet/drop_reason.hpp"
#include "base/packet/packet_meta.hpp"
#include "base/sync/counters.hpp"
#include "base/sync/rcu.hpp"
#include "base/sync/snapshot.hpp"
#include "capture/fastpath/capture_tap.hpp"
#include "exception/fastpath/punt_limit.hpp"
#include "exception/fastpath/punt_ring.hpp"
#include "nat/fastpath/flow_cache.hpp"
#include "nat/fastpath/fragments.hpp"
#include "vxlan/fastpath/outer_templates.hpp"

namespace dpdock::bridge {
class MacTable;
}
namespace dpdock::dns {
struct DnsRings;
}
namespace dpdock::l3 {
class NeighbourTable;
}
namespace dpdock::nat {
class Conntrack;
struct FlowKey;
}
namespace dpdock::vxlan {
class VtepTable;
}

namespace dpdock::dataplane {

struct KernelPortScratch;
class Doorbells;
class SpreadRings;

struct WorkerContext {
    unsigned index = 0;  // worker number: RCU reader id and tx queue id on every port
    std::uint16_t burst = 32;
    std::uint32_t idle_sleep_us = 0;      // first idle sleep; 0: pure polling (idle_backoff.hpp)
    std::uint32_t idle_sleep_max_us = 0;  // the longest idle sleep
    std::uint64_t idle_poll_cycles = 0;   // polling after the last packet before the first sleep (TSC)
    std::uint64_t woke_at = 0;  // TSC at the end of the last idle wait, until a packet arrives (0: none)
    std::uint64_t poll_start = 0;  // TSC at which the next worker_poll starts: the last one's end (0: read it then)
    const sync::Snapshot<dataplane::ForwardingSnapshot>* snapshot = nullptr;
    bridge::MacTable* macs = nullptr;
    bridge::MacCache mac_cache;  // this worker's recent answers of `macs`
    l3::NeighbourTable* neighbours = nullptr;
    nat::Conntrack* conntrack = nullptr;  // shared by all workers (MASQUERADE)
    nat::FlowCache flow_cache;            // this worker's recent answers of `conntrack`
    rte_mempool* pool = nullptr;  // for the packets this worker originates (ARP requests)
    rte_mempool* indirect_pool = nullptr;  // payload references of the fragments it makes
    sync::Rcu* rcu = nullptr;
    sync::WorkerCounters* counters = nullptr;  // written only by this worker
    nat::RuleCounters* rule_counters = nullptr;  // NAT rules' counters, written only by this worker
    const std::atomic<bool>* stop = nullptr;
    TxBuffers tx;
    PendingPackets pending;  // waiting for ARP
    IcmpErrorState icmp;     // rate limit of the ICMP errors this worker originates
    vxlan::VtepTable* vteps = nullptr;  // remote VTEPs as pseudo ports (shared)
    std::uint16_t vxlan_ip_id = 0;      // outer IPv4 identification of this worker's next VXLAN packet
    vxlan::OuterTemplates vxlan_templates;  // outer headers per remote VTEP, prebuilt
    nat::FragmentTable fragments;       // first fragments' ports, for NAT of the later ones
    std::uint64_t fragment_ticks = 0;   // how long a datagram's later fragments are recognised (1 s of TSC)
    KernelPortScratch* kernel = nullptr;  // buffers for the kernel ports' socket calls
    exception::PuntRing punt;             // this worker's packets for the host's kernel (producer side)
    exception::PuntLimit punt_limit;      // and their rate
    capture::CaptureTap* capture = nullptr;  // `dpdock capture`: copies of received packets while armed
    const std::vector<exception::PuntRing>* punt_rings = nullptr;  // every worker's, drained by the host port's worker
    const dns::DnsRings* dns = nullptr;   // queries to the DNS thread, its answers back (shared)
    const SpreadRings* spread = nullptr;  // packets of flows other workers own, both ways (spread.hpp); null: 1 worker
    Doorbells* doorbells = nullptr;       // every worker's: wake the one a ring hands packets to (doorbells.hpp)
};

// The only way the fast path frees a packet: counted by reason and by ingress port.
inline void drop_packet(WorkerContext& ctx, rte_mbuf* m, DropReason reason) {
    sync::bump(ctx.counters->drops[static_cast<std::size_t>(reason)]);
    if (m->port < sync::kMaxPorts) sync::bump(ctx.counters->ports[m->port].drops[static_cast<std::size_t>(reason)]);
    rte_pktmbuf_free(m);
}

// A packet translated by a NAT rule: counted on the rule's slot.
inline void count_rule(WorkerContext& ctx, std::uint32_t slot, const rte_mbuf* m) {
    if (slot >= nat::kMaxRuleSlots) return;
    nat::RuleCounter& c = ctx.rule_counters->slots[slot];
    sync::bump(c.packets);
    sync::bump(c.bytes, rte_pktmbuf_pkt_len(m));
}

// A packet addressed to the dataplane itself that needs no answer (an ARP
// reply it asked for): counted as delivered, not as a drop.
inline void consume_packet(WorkerContext& ctx, rte_mbuf* m) {
    sync::bump(ctx.counters->local_delivered);
    rte_pktmbuf_free(m);
}

}  // namespace dpdock::dataplane
