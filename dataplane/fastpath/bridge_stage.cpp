// bridge_stage: MAC learning and L2 forwarding inside one network. See stages.hpp.
#include <rte_ether.h>

#include "dataplane/bridge/mac_table.hpp"
#include "dataplane/fastpath/local_reply.hpp"
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {
namespace {

MacAddress mac_at(const rte_ether_addr& a) {
    std::array<std::uint8_t, 6> b;
    std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), b.begin());
    return MacAddress(b);
}

void count_learn(WorkerContext& ctx, bridge::LearnResult result) {
    switch (result) {
        case bridge::LearnResult::Learned: sync::bump(ctx.counters->mac_learned); break;
        case bridge::LearnResult::Moved: sync::bump(ctx.counters->mac_moved); break;
        case bridge::LearnResult::Full: sync::bump(ctx.counters->mac_table_full); break;
        case bridge::LearnResult::StaticConflict: sync::bump(ctx.counters->mac_static_conflict); break;
        case bridge::LearnResult::Unchanged:
        case bridge::LearnResult::Refreshed: break;
    }
}

}  // namespace

std::uint16_t bridge_stage(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now) {
    // Phase 1: learn sources and gather destination keys of unicast frames.
    std::uint64_t keys[kMaxBurst];
    PortId out[kMaxBurst];
    unsigned n_unicast = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        const PacketMeta& meta = packet_meta(m);
        const MacAddress src = mac_at(eth->src_addr);
        if (src.is_multicast()) {
            // A group address is never a valid source: do not learn it, drop it.
            pkts[i] = nullptr;
            drop_packet(ctx, m, DropReason::BadHeader);
            continue;
        }
        count_learn(ctx, ctx.macs->learn(meta.network, src, meta.ingress_port, now));
        if ((meta.flags & kFlagMulticast) == 0) {
            keys[n_unicast++] = bridge::MacTable::make_key(meta.network, mac_at(eth->dst_addr));
        }
    }
    // Phase 2: one bulk lookup of every unicast destination.
    for (unsigned done = 0; done < n_unicast; done += 64) {
        const unsigned chunk = std::min(64u, n_unicast - done);
        ctx.macs->lookup_bulk(keys + done, chunk, out + done);
    }
    // Phase 3: act. Unicast in the order looked up, multicast/broadcast flooded.
    std::uint16_t to_gateway = 0;
    unsigned u = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m == nullptr) continue;
        const PacketMeta& meta = packet_meta(m);
        if ((meta.flags & kFlagMulticast) != 0) {
            // Nobody else on the network owns the gateway address: its ARP is not flooded.
            if (is_arp_request_for(m, meta, snap.networks[meta.network].gateway_ip)) {
                pkts[to_gateway++] = m;
            } else {
                flood_packet(ctx, snap, m);
            }
            continue;
        }
        const PortId dst_port = out[u++];
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        if (mac_at(eth->dst_addr) == snap.networks[meta.network].gateway_mac) {
            pkts[to_gateway++] = m;
        } else if (dst_port == kNoPort || !snap.port_in_network(dst_port, meta.network)) {
            // Unknown, or learned on a port that has since left the network
            // (its entries are flushed by the control thread shortly after).
            flood_packet(ctx, snap, m);
        } else if (dst_port == meta.ingress_port) {
            drop_packet(ctx, m, DropReason::SamePort);
        } else {
            ctx.tx.send(dst_port, m);
        }
    }
    return to_gateway;
}

}  // namespace dpdock::dataplane
