// deliver_to_container: a translated packet routed into a container's network. See stages.hpp.
#include <cstring>

#include "bridge/mac_table.hpp"
#include "dataplane/fastpath/fragment.hpp"
#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"

namespace dpdock::dataplane {
namespace {

void forward(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, PortId port, bool known) {
    if (known) {
        ctx.tx.send(port, m);
    } else {
        flood_packet(ctx, snap, m);
    }
}

// Kept out of line: the common path carries no array of pieces.
[[gnu::cold, gnu::noinline]] void forward_pieces(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap,
                                                 rte_mbuf* m, std::uint32_t mtu, PortId port, bool known) {
    rte_mbuf* pieces[kMaxEgressPieces];
    const unsigned n =
        fit_to_mtu(ctx, m, packet_meta(m).l3_offset, mtu, known && ctx.tx.takes_offloads(port), pieces);
    for (unsigned i = 0; i < n; ++i) forward(ctx, snap, pieces[i], port, known);
}

}  // namespace

void deliver_to_container(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, MacAddress mac,
                          NetworkId network, const nat::FlowKey* received, std::uint64_t now) {
    PacketMeta& meta = packet_meta(m);
    if (network >= snap.networks.size()) {
        drop_packet(ctx, m, DropReason::NoNetwork);
        return;
    }
    const std::uint32_t mtu = snap.networks[network].mtu;
    if (auto err = check_forward(m, *header_at<rte_ipv4_hdr>(m, meta.l3_offset), mtu)) {
        if (snap.ports[m->port].role == dataplane::PortRole::Uplink) {
            send_icmp_error_out(ctx, *snap.uplink, m, meta, *err, received, now);
        } else {
            const dataplane::NetworkInfo& from = snap.networks[meta.network];
            return_icmp_error(ctx, m, meta, *err, from.gateway_ip, from.gateway_mac, now);
        }
        drop_packet(ctx, m, err->reason);
        return;
    }
    auto* eth = header_at<rte_ether_hdr>(m, 0);
    const auto dst = mac.bytes();
    const auto src = snap.networks[network].gateway_mac.bytes();
    std::memcpy(eth->dst_addr.addr_bytes, dst.data(), dst.size());
    std::memcpy(eth->src_addr.addr_bytes, src.data(), src.size());
    meta.network = network;
    // The worker's MAC cache first (bridge/fastpath/mac_cache.hpp): a
    // translated flow's packets all go to one container, and a one-key
    // rte_hash bulk lookup costs more than the rest of the delivery.
    const std::uint64_t key = bridge::MacKey{network, mac}.packed();
    const std::uint64_t generation = ctx.macs->generation();
    PortId port = kNoPort;
    if (const bridge::MacCache::Entry* known = ctx.mac_cache.find(key, generation)) {
        port = known->port();
    } else {
        ctx.macs->lookup_bulk(&key, 1, &port);
        ctx.mac_cache.put_destination(key, port, generation);
    }
    const bool known = port != kNoPort && snap.port_in_network(port, network);
    if (needs_fitting(m, meta.l3_offset, mtu)) [[unlikely]] {
        forward_pieces(ctx, snap, m, mtu, port, known);
        return;
    }
    forward(ctx, snap, m, port, known);
}

}  // namespace dpdock::dataplane
