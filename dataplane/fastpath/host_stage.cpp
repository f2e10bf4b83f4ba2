// The exception path's two directions in the packet path: punt_to_host (a
// stage's packet for the host's kernel, onto the worker's punt ring),
// drain_punts (the worker polling dpdock0 writes every worker's ring to it)
// and host_stage (what the kernel sends on dpdock0). See stages.hpp.
#include <cstring>

#include "l3/fastpath/local_reply.hpp"
#include "dataplane/doorbells.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/headers.hpp"
#include "exception/fastpath/kernel_arp.hpp"

namespace dpdock::dataplane {
namespace {

MacAddress destination_mac(const rte_mbuf* m) {
    std::array<std::uint8_t, 6> b;
    std::memcpy(b.data(), rte_pktmbuf_mtod(m, const rte_ether_hdr*)->dst_addr.addr_bytes, b.size());
    return MacAddress(b);
}

// The kernel asks who has `target`: a container (relayed into its network,
// which answers), or anything out of the uplink (answered here with the
// uplink's MAC: the dataplane routes it through its neighbour table).
void kernel_arp(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint64_t now) {
    PacketMeta& meta = packet_meta(m);
    const auto* arp = header_at<const rte_arp_hdr>(m, meta.l3_offset);
    if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST)) {
        drop_packet(ctx, m, DropReason::ArpIgnored);  // it answers only what it is asked, and nothing asks it
        return;
    }
    const Ipv4Address target = Ipv4Address::from_be(Be32::from_raw(arp->arp_data.arp_tip));
    const NetworkId to = snap.network_of(target);
    if (to != kNoNetwork) {
        if (target == snap.networks[to].gateway_ip) {
            drop_packet(ctx, m, DropReason::ArpIgnored);  // its own address
            return;
        }
        exception::relay_request_into_network(m, meta, snap.networks[to].gateway_mac);
        meta.network = to;
        flood_packet(ctx, snap, m, now);
        return;
    }
    if (!snap.uplink || target == snap.uplink->address.address()) {
        drop_packet(ctx, m, DropReason::NoRoute);
        return;
    }
    if (auto why = l3::answer_arp(m, meta, snap.uplink->mac, target)) {
        drop_packet(ctx, m, *why);
        return;
    }
    ctx.tx.send(meta.ingress_port, m);
}

}  // namespace

bool punt_to_host(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m) {
    // A tagged frame would reach dpdock0 tagged, where nothing takes it.
    if (!snap.host || (packet_meta(m).flags & kFlagVlan) != 0) return false;
    const auto mac = snap.host->kernel_mac.bytes();
    std::memcpy(rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr.addr_bytes, mac.data(), mac.size());
    if (!ctx.punt_limit.admit(rte_rdtsc(), snap.host->punt_rate, snap.host->punt_burst)) {
        drop_packet(ctx, m, DropReason::PuntRateLimited);
        return true;
    }
    if (!ctx.punt.offer(m)) {
        drop_packet(ctx, m, DropReason::PuntFull);
        return true;
    }
    sync::bump(ctx.counters->punted);
    if (snap.host->worker != ctx.index && ctx.doorbells != nullptr) ctx.doorbells->ring(snap.host->worker);
    return true;
}

bool punts_waiting(const WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap) {
    if (!snap.host || snap.host->worker != ctx.index || ctx.punt_rings == nullptr) return false;
    for (const exception::PuntRing& ring : *ctx.punt_rings) {
        if (!ring.empty()) return true;
    }
    return false;
}

unsigned drain_punts(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap) {
    if (!snap.host || snap.host->worker != ctx.index || ctx.punt_rings == nullptr) return 0;
    rte_mbuf* pkts[kMaxBurst];
    unsigned drained = 0;
    for (const exception::PuntRing& ring : *ctx.punt_rings) {
        const unsigned n = ring.take(pkts, ctx.burst);
        for (unsigned i = 0; i < n; ++i) ctx.tx.send(snap.host->port, pkts[i]);
        drained += n;
    }
    return drained;
}

void host_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                std::uint64_t now) {
    dcheck_parsed_to_l4(pkts, n);
    sync::bump(ctx.counters->from_host, n);
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        PacketMeta& meta = packet_meta(m);
        if (meta.l3_type == L3Type::Arp) {
            kernel_arp(ctx, snap, m, now);
            continue;
        }
        if (meta.l3_type != L3Type::Ipv4 || (meta.flags & kFlagVlan) != 0) {
            drop_packet(ctx, m, DropReason::NoRoute);  // IPv6 and the like: dpdock networks have none
            continue;
        }
        const Ipv4Address dst =
            Ipv4Address::from_be(Be32::from_raw(header_at<const rte_ipv4_hdr>(m, meta.l3_offset)->dst_addr));
        const NetworkId to = snap.network_of(dst);
        if (to != kNoNetwork) {
            // To a container: the kernel resolved its MAC (relayed ARP). A
            // broadcast (the subnet's) is flooded in the network, as docker0 would.
            meta.network = to;
            if ((meta.flags & kFlagMulticast) != 0) {
                const auto gw = snap.networks[to].gateway_mac.bytes();
                std::memcpy(rte_pktmbuf_mtod(m, rte_ether_hdr*)->src_addr.addr_bytes, gw.data(), gw.size());
                flood_packet(ctx, snap, m, now);
            } else {
                deliver_to_container(ctx, snap, m, destination_mac(m), to, nullptr, now);
            }
            continue;
        }
        if (!snap.uplink || (meta.flags & kFlagMulticast) != 0) {
            drop_packet(ctx, m, DropReason::NoRoute);
            continue;
        }
        // Out of the uplink, from the host's own address: no translation.
        const dataplane::UplinkInfo& uplink = *snap.uplink;
        send_via_uplink(ctx, uplink, m, uplink.address.contains(dst) ? dst : uplink.gateway, now);
    }
}

}  // namespace dpdock::dataplane
