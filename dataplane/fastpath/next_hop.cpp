// send_via_uplink / service_pending: ARP resolution of uplink next hops. See stages.hpp.
#include <algorithm>
#include <cstring>

#include <rte_arp.h>

#include "dataplane/fastpath/fragment.hpp"
#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "l3/neighbour_table.hpp"

namespace dpdock::dataplane {
namespace {

void put_mac(rte_ether_addr* to, MacAddress mac) { std::memcpy(to->addr_bytes, mac.bytes().data(), 6); }

void transmit(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, rte_mbuf* m, MacAddress to) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    put_mac(&eth->dst_addr, to);
    put_mac(&eth->src_addr, uplink.mac);
    ctx.tx.send(uplink.port, m);
}

// Broadcasts "who has next_hop? tell <host address>" on the uplink, and
// records the question so that the answer is accepted (only solicited
// replies add neighbours). Broadcast also for a re-probe: a neighbour whose
// MAC changed answers it too. A pool running dry only delays resolution: the
// packet waits for the next attempt.
void ask(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, Ipv4Address next_hop) {
    ctx.neighbours->solicit(next_hop);
    rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
    if (m == nullptr) return;
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)));
    std::memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
    put_mac(&eth->src_addr, uplink.mac);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = RTE_ETHER_ADDR_LEN;
    arp->arp_plen = sizeof(std::uint32_t);
    arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
    put_mac(&arp->arp_data.arp_sha, uplink.mac);
    arp->arp_data.arp_sip = uplink.address.address().be().raw();
    std::memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
    arp->arp_data.arp_tip = next_hop.be().raw();
    m->port = uplink.port;  // counted as the uplink's own traffic should it be dropped
    ctx.tx.send(uplink.port, m);
}

// A configured gateway MAC answers without the ARP cache (it never ages).
// A STALE entry is used while its re-probe is sent.
std::optional<MacAddress> resolve(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, Ipv4Address next_hop,
                                  std::uint64_t now) {
    if (uplink.gateway_mac && next_hop == uplink.gateway) return uplink.gateway_mac;
    const auto n = ctx.neighbours->lookup(next_hop, now, arp_timing(uplink));
    if (!n) return std::nullopt;
    if (n->probe) ask(ctx, uplink, next_hop);
    return n->mac;
}

bool already_waiting_for(const PendingPackets& pending, Ipv4Address next_hop) {
    for (unsigned i = 0; i < pending.count; ++i) {
        if (pending.slots[i].next_hop == next_hop) return true;
    }
    return false;
}

void send_fitting(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, rte_mbuf* m, Ipv4Address next_hop,
                  std::uint64_t now) {
    if (auto mac = resolve(ctx, uplink, next_hop, now)) {
        transmit(ctx, uplink, m, *mac);
        return;
    }
    PendingPackets& pending = ctx.pending;
    if (pending.count == PendingPackets::kCapacity) {
        drop_packet(ctx, m, DropReason::ArpQueueFull);
        return;
    }
    // One request per next hop, however many packets wait for it.
    const bool asked = already_waiting_for(pending, next_hop);
    if (!asked) ask(ctx, uplink, next_hop);
    pending.slots[pending.count++] = {m, next_hop, now, asked ? std::uint8_t{0} : std::uint8_t{1}};
}

// Everything routed out is untagged: its IPv4 header follows the Ethernet header.
constexpr std::uint32_t kL3 = sizeof(rte_ether_hdr);

// Kept out of line: the common path carries no array of pieces.
[[gnu::cold, gnu::noinline]] void send_pieces(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, rte_mbuf* m,
                                              Ipv4Address next_hop, std::uint64_t now) {
    rte_mbuf* pieces[kMaxEgressPieces];
    const unsigned n = fit_to_mtu(ctx, m, kL3, uplink.mtu, ctx.tx.takes_offloads(uplink.port), pieces);
    for (unsigned i = 0; i < n; ++i) send_fitting(ctx, uplink, pieces[i], next_hop, now);
}

}  // namespace

void send_via_uplink(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, rte_mbuf* m, Ipv4Address next_hop,
                     std::uint64_t now) {
    if (needs_fitting(m, kL3, uplink.mtu)) [[unlikely]] {
        send_pieces(ctx, uplink, m, next_hop, now);
        return;
    }
    send_fitting(ctx, uplink, m, next_hop, now);
}

void service_pending(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, std::uint64_t now) {
    PendingPackets& pending = ctx.pending;
    unsigned kept = 0;
    Ipv4Address asked_now[PendingPackets::kCapacity];
    unsigned n_asked = 0;
    for (unsigned i = 0; i < pending.count; ++i) {
        PendingPacket p = pending.slots[i];
        if (!snap.uplink) {
            drop_packet(ctx, p.m, DropReason::NoRoute);  // the uplink went away meanwhile
            continue;
        }
        const dataplane::UplinkInfo& uplink = *snap.uplink;
        if (auto mac = resolve(ctx, uplink, p.next_hop, now)) {
            transmit(ctx, uplink, p.m, *mac);
            continue;
        }
        if (now - p.asked >= uplink.arp_retry_ticks) {
            if (p.attempts >= kArpAttempts) {
                // The host's kernel hears at once that the neighbour is unreachable,
                // as its own neighbour layer would tell it (EHOSTUNREACH), from the
                // neighbour's address (one of its own would be a martian source).
                if (snap.host && p.m->port == snap.host->port) {
                    return_icmp_error(ctx, p.m, packet_meta(p.m),
                                      {DropReason::ArpUnresolved, kIcmpDestUnreachable, kIcmpHostUnreachable, 0},
                                      p.next_hop, uplink.mac, now);
                }
                drop_packet(ctx, p.m, DropReason::ArpUnresolved);
                continue;
            }
            if (std::find(asked_now, asked_now + n_asked, p.next_hop) == asked_now + n_asked) {
                ask(ctx, uplink, p.next_hop);
                asked_now[n_asked++] = p.next_hop;
            }
            p.asked = now;
            ++p.attempts;
        }
        pending.slots[kept++] = p;
    }
    pending.count = kept;
}

}  // namespace dpdock::dataplane
