#include "nat/fastpath/dnat.hpp"

#include <array>
#include <cstring>

#include <rte_byteorder.h>

#include "base/packet/headers.hpp"
#include "nat/fastpath/masquerade.hpp"
#include "nat/fastpath/rewrite.hpp"

namespace dpdock::nat {
namespace {

// Makes the packet carry `to` (both sides; a side already equal is left alone).
void translate(rte_mbuf* m, const PacketMeta& meta, const FlowKey& now_is, const FlowKey& to) {
    if (now_is.src_ip != to.src_ip || now_is.src_port != to.src_port) {
        rewrite(m, meta, Side::Source, to.src_ip, to.src_port);
    }
    if (now_is.dst_ip != to.dst_ip || now_is.dst_port != to.dst_port) {
        rewrite(m, meta, Side::Destination, to.dst_ip, to.dst_port);
    }
}

bool is_published(const Entry& e) { return e.kind != EntryKind::Masquerade; }

}  // namespace

DnatVerdict dnat_original(Conntrack& ct, const PortMap& ports, rte_mbuf* m, const PacketMeta& meta,
                          const Tracked& t, bool hairpin, std::uint64_t now) {
    const auto& key = t.key;
    if (!key) return {};
    const PublishedRule* rule = ports.find(key->proto, rte_be_to_cpu_16(key->dst_port));
    if (rule == nullptr) return {};
    const std::uint8_t flags = tcp_flags_of(m, meta);
    Entry* e = t.entry;
    if (e != nullptr) {
        // Anything but the original direction of a published flow is not ours to translate.
        if (t.dir != Direction::Original || !is_published(*e)) return {};
        ct.track(*e, Direction::Original, flags, now);
    } else {
        MacAddress reply_mac;
        NetworkId reply_network = kNoNetwork;
        if (hairpin) {
            std::array<std::uint8_t, 6> mac;
            std::memcpy(mac.data(), header_at<const rte_ether_hdr>(m, 0)->src_addr.addr_bytes, mac.size());
            reply_mac = MacAddress(mac);
            reply_network = meta.network;
        }
        DropReason why{};
        e = ct.create_published(*key, rule->container_ip.be().raw(),
                                rte_cpu_to_be_16(rule->container_port(rte_be_to_cpu_16(key->dst_port))),
                                hairpin ? rule->gateway.be().raw() : 0, reply_mac, reply_network, flags, now, why);
        if (e == nullptr) return {nullptr, why};
    }
    translate(m, meta, *key, e->reply.reversed());
    return {rule, std::nullopt};
}

const Entry* dnat_reply(Conntrack& ct, rte_mbuf* m, const PacketMeta& meta, const Tracked& t, std::uint64_t now) {
    Entry* e = t.entry;
    if (e == nullptr || t.dir != Direction::Reply || !is_published(*e)) return nullptr;
    ct.track(*e, Direction::Reply, tcp_flags_of(m, meta), now);
    translate(m, meta, *t.key, e->original.reversed());
    return e;
}

}  // namespace dpdock::nat
