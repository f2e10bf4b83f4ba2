// bridge_stage: MAC learning and L2 forwarding inside one network. See stages.hpp.
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "dataplane/bridge/mac_table.hpp"
#include "dataplane/fastpath/icc.hpp"
#include "vxlan/vtep_table.hpp"
#include "dataplane/fastpath/local_reply.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/offload_completion.hpp"
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {
namespace {

// The Ethernet address at `a` as MacAddress::to_u64() spells it (first octet
// most significant), from one 8-byte load: each address in the header is
// followed by at least two more header bytes, which the shift drops.
std::uint64_t mac_bits(const rte_ether_addr& a) {
    std::uint64_t v;
    std::memcpy(&v, &a, sizeof v);
    return rte_be_to_cpu_64(v) >> 16;
}

constexpr std::uint64_t kGroupBit = std::uint64_t{1} << 40;  // I/G bit of the first octet

void count_learning(WorkerContext& ctx, const bridge::LearnTally& tally) {
    if (tally.learned != 0) sync::bump(ctx.counters->mac_learned, tally.learned);
    if (tally.moved != 0) sync::bump(ctx.counters->mac_moved, tally.moved);
    if (tally.full != 0) sync::bump(ctx.counters->mac_table_full, tally.full);
    if (tally.static_conflict != 0) sync::bump(ctx.counters->mac_static_conflict, tally.static_conflict);
}

}  // namespace

std::uint16_t bridge_stage(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now) {
    // Phase 1: gather source keys (to learn) and destination keys of unicast frames.
    std::uint64_t src_keys[kMaxBurst];
    PortId src_ports[kMaxBurst];
    std::uint64_t dst_keys[kMaxBurst];
    unsigned n_src = 0;
    unsigned n_unicast = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        const PacketMeta& meta = packet_meta(m);
        const std::uint64_t src = mac_bits(eth->src_addr);
        if ((src & kGroupBit) != 0) {
            // A group address is never a valid source: do not learn it, drop it.
            pkts[i] = nullptr;
            drop_packet(ctx, m, DropReason::BadHeader);
            continue;
        }
        src_keys[n_src] = bridge::MacKey::pack(meta.network, src);
        src_ports[n_src++] = meta.ingress_port;
        const std::uint64_t dst = mac_bits(eth->dst_addr);
        if (icc_blocked(snap.networks[meta.network], meta, dst)) {
            pkts[i] = nullptr;  // its source is still learned
            drop_packet(ctx, m, DropReason::IccBlocked);
            continue;
        }
        if ((meta.flags & kFlagMulticast) == 0) {
            dst_keys[n_unicast++] = bridge::MacKey::pack(meta.network, dst);
        }
    }
    // Phase 2: learn all sources, then look up all unicast destinations, each in bulk.
    bridge::LearnTally tally;
    ctx.macs->learn_bulk(src_keys, src_ports, n_src, now, tally);
    count_learning(ctx, tally);
    PortId out[kMaxBurst];
    ctx.macs->lookup_bulk(dst_keys, n_unicast, out);
    // Phase 3: act. Unicast in the order looked up, multicast/broadcast flooded.
    std::uint16_t to_gateway = 0;
    unsigned u = 0;
    NetworkId gateway_network = kNoNetwork;
    std::uint64_t gateway_key = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m == nullptr) continue;
        const PacketMeta& meta = packet_meta(m);
        if ((meta.flags & kFlagMulticast) != 0) {
            // Nobody else on the network owns the gateway address: its ARP is not flooded.
            if (is_arp_request_for(m, meta, snap.networks[meta.network].gateway_ip)) {
                pkts[to_gateway++] = m;
            } else if (!answer_suppressed_arp(ctx, snap, m)) {
                flood_packet(ctx, snap, m, now);
            }
            continue;
        }
        if (meta.network != gateway_network) {  // a burst comes from one port, so usually one network
            gateway_network = meta.network;
            gateway_key = bridge::MacKey{meta.network, snap.networks[meta.network].gateway_mac}.packed();
        }
        const PortId dst_port = out[u];
        if (dst_keys[u++] == gateway_key) {
            pkts[to_gateway++] = m;
        } else if (vxlan::is_vtep_port(dst_port) && dst_port != meta.ingress_port) {
            send_to_vtep(ctx, snap, m, dst_port, now);  // behind a remote VTEP (overlay networks only)
        } else if (dst_port == meta.ingress_port) {
            drop_packet(ctx, m, DropReason::SamePort);
        } else if (dst_port == kNoPort || !snap.port_in_network(dst_port, meta.network)) {
            // Unknown, or learned on a port that has since left the network
            // (its entries are flushed by the control thread shortly after).
            flood_packet(ctx, snap, m, now);
        } else {
            send_to_port(ctx, snap, dst_port, m);
        }
    }
    return to_gateway;
}

}  // namespace dpdock::dataplane
