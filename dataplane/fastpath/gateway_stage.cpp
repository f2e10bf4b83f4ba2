// gateway_stage: the network's own address. See stages.hpp.
#include "l3/fastpath/local_reply.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/headers.hpp"
#include "exception/fastpath/kernel_arp.hpp"
#include "dns/fastpath/dns_punt.hpp"
#include "nat/fastpath/dnat.hpp"

namespace dpdock::dataplane {

std::uint16_t gateway_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                            std::uint16_t n, std::uint64_t now) {
    dcheck_parsed_to_l4(pkts, n);
    std::uint16_t to_route = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PacketMeta& meta = packet_meta(m);
        const dataplane::NetworkInfo& net = snap.networks[meta.network];
        std::optional<DropReason> verdict;
        if (meta.l3_type == L3Type::Arp) {
            verdict = l3::answer_arp(m, meta, net.gateway_mac, net.gateway_ip);
            // A container answering the kernel's ARP relayed from the gateway (host_stage).
            if (verdict == DropReason::ArpIgnored && snap.host &&
                exception::relay_reply_to_kernel(m, meta, snap.host->kernel_mac) && punt_to_host(ctx, snap, m)) {
                continue;
            }
        } else if (meta.l3_type != L3Type::Ipv4) {
            verdict = DropReason::NoRoute;
        } else if (header_at<const rte_ipv4_hdr>(m, meta.l3_offset)->dst_addr == net.gateway_ip.be().raw()) {
            // A container answering a hairpin flow, which came to it from its gateway.
            if (snap.published && !snap.published->empty()) {
                if (const nat::Entry* flow = nat::dnat_reply(*ctx.conntrack, m, meta, nat::look_up(*ctx.conntrack, m, meta), now)) {
                    deliver_to_container(ctx, snap, m, flow->mac, flow->network, nullptr, now);
                    continue;
                }
            }
            // Port 53 at the gateway: the embedded DNS thread answers (dns/dns_service.hpp).
            if (ctx.dns != nullptr && dns::is_dns_query(m, meta)) {
                if (!dns::punt_query(*ctx.dns, m)) drop_packet(ctx, m, DropReason::DnsRingFull);
                continue;
            }
            verdict = l3::answer_echo(m, meta, net.gateway_mac);
        } else {
            pkts[to_route++] = m;
            continue;
        }
        if (verdict == DropReason::NotServed && punt_to_host(ctx, snap, m)) continue;  // the host's services
        if (verdict) {
            drop_packet(ctx, m, *verdict);
        } else {
            ctx.tx.send(meta.ingress_port, m);
        }
    }
    return to_route;
}

}  // namespace dpdock::dataplane
