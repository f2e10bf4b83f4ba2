// deliver_to_container: a translated packet routed into a container's network. See stages.hpp.
#include <cstring>

#include "dataplane/bridge/mac_table.hpp"
#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/offload_completion.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/headers.hpp"

namespace dpdock::dataplane {

void deliver_to_container(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m, MacAddress mac,
                          NetworkId network, const nat::FlowKey* received, std::uint64_t now) {
    PacketMeta& meta = packet_meta(m);
    if (network >= snap.networks.size()) {
        drop_packet(ctx, m, DropReason::NoNetwork);
        return;
    }
    if (auto err = check_forward(*m, *header_at<rte_ipv4_hdr>(m, meta.l3_offset), snap.networks[network].mtu)) {
        if (snap.ports[m->port].role == bridge::PortRole::Uplink) {
            send_icmp_error_out(ctx, *snap.uplink, m, meta, *err, received, now);
        } else {
            const bridge::NetworkInfo& from = snap.networks[meta.network];
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
    const std::uint64_t key = bridge::MacKey{network, mac}.packed();
    PortId port = kNoPort;
    ctx.macs->lookup_bulk(&key, 1, &port);
    if (port != kNoPort && snap.port_in_network(port, network)) {
        send_to_port(ctx, snap, port, m);
    } else {
        flood_packet(ctx, snap, m);
    }
}

}  // namespace dpdock::dataplane
