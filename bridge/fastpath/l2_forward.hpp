// The bridge's decision for a burst: learn every source MAC, look up every
// unicast destination, and say per frame where it goes (a member port, a
// remote VTEP's pseudo port, flood, the gateway) or why it is dropped. It
// transmits nothing and frees nothing: each verdict goes to the engine's
// action (dataplane/fastpath/bridge_stage.cpp), called in the loop that
// decides, so a verdict travels in registers, never through an array.
// Worker-only; header-only because it is generic over the engine's forwarding
// snapshot (BridgeTables) and its action (inlined).
#pragma once

#include <concepts>
#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "base/packet/arp.hpp"
#include "base/packet/drop_reason.hpp"
#include "base/packet/packet_meta.hpp"
#include "bridge/domain.hpp"
#include "bridge/fastpath/mac_cache.hpp"
#include "bridge/mac_table.hpp"

namespace dpdock::bridge {

// What the bridge needs of the forwarding snapshot: each network's Domain,
// and whether a port (still) belongs to a network.
template <class Tables>
concept BridgeTables = requires(const Tables& t, PortId port, NetworkId network) {
    { t.networks[network] } -> std::convertible_to<const Domain&>;
    { t.port_in_network(port, network) } -> std::same_as<bool>;
};

struct L2Verdict {
    enum class Kind : std::uint8_t {
        Port,     // to `port`, a member of the frame's network
        Remote,   // to the remote VTEP behind pseudo port `port` (overlay networks)
        Flood,    // to every member (and peer): broadcast, multicast, unknown or stale destination
        Gateway,  // for the network's gateway (its MAC, or an ARP request for its address)
        Drop,     // `reason`
    };
    Kind kind;
    PortId port;        // Port, Remote
    DropReason reason;  // Drop
};

namespace detail {

// The Ethernet address at `a` as MacAddress::to_u64() spells it (first octet
// most significant), from one 8-byte load: each address in the header is
// followed by at least two more header bytes, which the shift drops.
inline std::uint64_t mac_bits(const rte_ether_addr& a) {
    std::uint64_t v;
    std::memcpy(&v, &a, sizeof v);
    return rte_be_to_cpu_64(v) >> 16;
}

inline constexpr std::uint64_t kGroupBit = std::uint64_t{1} << 40;  // I/G bit of the first octet

// True when every frame of pkts[0..n) has the first frame's addresses (the
// first 12 bytes), network, ingress port and L3 type: what the bridge's
// verdict on a frame depends on (ICC blocks IPv4 only). Stops at the first
// difference, so a burst of several flows costs a frame or two.
inline bool one_flow(rte_mbuf* const* pkts, std::uint16_t n) {
    const auto* first = rte_pktmbuf_mtod(pkts[0], const std::uint8_t*);
    const PacketMeta& meta = packet_meta(pkts[0]);
    std::uint64_t head;
    std::uint32_t tail;
    std::memcpy(&head, first, sizeof head);
    std::memcpy(&tail, first + sizeof head, sizeof tail);
    for (std::uint16_t i = 1; i < n; ++i) {
        const auto* frame = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        const PacketMeta& other = packet_meta(pkts[i]);
        std::uint64_t h;
        std::uint32_t t;
        std::memcpy(&h, frame, sizeof h);
        std::memcpy(&t, frame + sizeof h, sizeof t);
        if (t != tail || h != head || other.network != meta.network || other.ingress_port != meta.ingress_port ||
            other.l3_type != meta.l3_type) {
            return false;
        }
    }
    return true;
}

}  // namespace detail

// Decides for pkts[0..n) (parsed, each with its network): act(m, verdict)
// once per frame, in order within each phase; `tally` counts what learning
// did. Three phases, as a burst should be: gather the keys (frames refused
// here are decided at once), learn and look up in bulk, decide the rest.
// `act` may store a frame back into pkts[] at an index it has passed (the
// engine compacts the gateway's frames to the front). `cache` is the
// worker's own: sources it knows fresh on their port skip learning, and
// destinations it knows skip the table. Every frame is decided on its own
// here; decide_burst() below is what the engine calls.
template <BridgeTables Tables, class Act>
    requires std::invocable<Act&, rte_mbuf*, const L2Verdict&>
void decide_each(MacTable& macs, MacCache& cache, const Tables& tables, rte_mbuf** pkts, std::uint16_t n,
                 std::uint64_t now, LearnTally& tally, Act&& act) {
    std::uint64_t src_keys[kMaxBurst];
    PortId src_ports[kMaxBurst];
    std::uint64_t dst_keys[kMaxBurst];
    const std::uint64_t generation = macs.generation();
    unsigned n_src = 0;
    unsigned n_unicast = 0;
    NetworkId learn_network = kNoNetwork;
    const Domain* domain = nullptr;  // learn_network's
    std::uint64_t own_gateway = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        const PacketMeta& meta = packet_meta(m);
        const std::uint64_t src = detail::mac_bits(eth->src_addr);
        if (meta.network != learn_network) {  // a burst comes from one port, so usually one network
            learn_network = meta.network;
            domain = &tables.networks[meta.network];
            own_gateway = domain->gateway_mac.to_u64();
        }
        // Sources a Linux bridge refuses to learn (br_handle_frame, br_fdb_update):
        // a group address, all zeros, and the bridge's own (gateway) address,
        // which a container could otherwise steal from the gateway.
        const DropReason refused = (src & detail::kGroupBit) != 0 ? DropReason::BadHeader
                                   : src == 0                     ? DropReason::SourceMacZero
                                   : src == own_gateway           ? DropReason::SourceMacGateway
                                                                  : DropReason::Count;
        if (refused != DropReason::Count) {
            pkts[i] = nullptr;
            act(m, L2Verdict{L2Verdict::Kind::Drop, kNoPort, refused});
            continue;
        }
        const std::uint64_t src_key = MacKey::pack(meta.network, src);
        const MacCache::Entry* known = cache.find(src_key, generation);
        if (known == nullptr || known->port() != meta.ingress_port || now >= known->due) {
            src_keys[n_src] = src_key;
            src_ports[n_src++] = meta.ingress_port;
        }
        const std::uint64_t dst = detail::mac_bits(eth->dst_addr);
        if (domain->icc_blocks(meta, dst)) {  // its source is still learned
            pkts[i] = nullptr;
            act(m, L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::IccBlocked});
            continue;
        }
        if ((meta.flags & kFlagMulticast) == 0) dst_keys[n_unicast++] = MacKey::pack(meta.network, dst);
    }
    if (n_src != 0) {
        std::uint64_t due[kMaxBurst];
        macs.learn_bulk(src_keys, src_ports, n_src, now, tally, due);
        for (unsigned i = 0; i < n_src; ++i) cache.put_source(src_keys[i], src_ports[i], due[i], generation);
    }
    // Destinations after learning, in the generation it left: a source this
    // burst moved is found where it moved to, as the table says.
    PortId found[kMaxBurst];
    if (n_unicast != 0) {
        const std::uint64_t current = macs.generation();
        std::uint64_t miss_keys[kMaxBurst];
        std::uint16_t miss_at[kMaxBurst];
        unsigned n_miss = 0;
        for (unsigned u = 0; u < n_unicast; ++u) {
            if (const MacCache::Entry* known = cache.find(dst_keys[u], current)) {
                found[u] = known->port();
            } else {
                miss_keys[n_miss] = dst_keys[u];
                miss_at[n_miss++] = static_cast<std::uint16_t>(u);
            }
        }
        if (n_miss != 0) {
            PortId miss_found[kMaxBurst];
            macs.lookup_bulk(miss_keys, n_miss, miss_found);
            for (unsigned j = 0; j < n_miss; ++j) {
                found[miss_at[j]] = miss_found[j];
                cache.put_destination(miss_keys[j], miss_found[j], current);
            }
        }
    }
    unsigned u = 0;
    NetworkId gateway_network = kNoNetwork;
    std::uint64_t gateway_key = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m == nullptr) continue;
        const PacketMeta& meta = packet_meta(m);
        if ((meta.flags & kFlagMulticast) != 0) {
            // Nobody else on the network owns the gateway address: its ARP is not flooded.
            const bool for_gateway = is_arp_request_for(m, meta, tables.networks[meta.network].gateway_ip);
            act(m, L2Verdict{for_gateway ? L2Verdict::Kind::Gateway : L2Verdict::Kind::Flood, kNoPort, DropReason::Count});
            continue;
        }
        if (meta.network != gateway_network) {  // a burst comes from one port, so usually one network
            gateway_network = meta.network;
            gateway_key = MacKey{meta.network, tables.networks[meta.network].gateway_mac}.packed();
        }
        const PortId dst_port = found[u];
        if (dst_keys[u++] == gateway_key) {
            act(m, L2Verdict{L2Verdict::Kind::Gateway, kNoPort, DropReason::Count});
        } else if (is_remote_port(dst_port)) {
            // Behind a remote VTEP (overlay networks only). The overlay is one
            // split-horizon group, as the VTEPs of a full mesh are: what came
            // from it never goes back into it (the sender reaches every peer
            // itself), so no duplicates, no loops, and nothing is ever sent
            // back towards a VTEP pseudo port as if it were an ethdev port.
            if (is_remote_port(meta.ingress_port)) {
                act(m, L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::SplitHorizon});
            } else {
                act(m, L2Verdict{L2Verdict::Kind::Remote, dst_port, DropReason::Count});
            }
        } else if (dst_port == meta.ingress_port) {
            act(m, L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::SamePort});
        } else if (dst_port == kNoPort || !tables.port_in_network(dst_port, meta.network)) {
            // Unknown, or learned on a port that has since left the network
            // (its entries are flushed by the control thread shortly after).
            act(m, L2Verdict{L2Verdict::Kind::Flood, kNoPort, DropReason::Count});
        } else {
            act(m, L2Verdict{L2Verdict::Kind::Port, dst_port, DropReason::Count});
        }
    }
}

// decide_each() for a burst, except that a burst of one flow (every frame
// with the first one's addresses, network, ingress port and L3 type, as a
// container's port often brings) is decided once, when the first frame is
// unicast and its source fresh: every input of the verdict is the same. The
// rest of such a burst then goes to act(pkts, count, verdict) in one call
// when `act` takes that form (the engine queues them for tx as a block),
// else frame by frame.
template <BridgeTables Tables, class Act>
    requires std::invocable<Act&, rte_mbuf*, const L2Verdict&>
void decide_burst(MacTable& macs, MacCache& cache, const Tables& tables, rte_mbuf** pkts, std::uint16_t n,
                  std::uint64_t now, LearnTally& tally, Act&& act) {
    if (n < 2 || !detail::one_flow(pkts, n)) {
        decide_each(macs, cache, tables, pkts, n, now, tally, act);
        return;
    }
    // Read before deciding: the first frame may be sent or freed by its action.
    const PacketMeta& meta = packet_meta(pkts[0]);
    const bool multicast = (meta.flags & kFlagMulticast) != 0;
    const PortId ingress = meta.ingress_port;
    const std::uint64_t src_key =
        MacKey::pack(meta.network, detail::mac_bits(rte_pktmbuf_mtod(pkts[0], const rte_ether_hdr*)->src_addr));
    L2Verdict verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::Count};
    decide_each(macs, cache, tables, pkts, 1, now, tally, [&](rte_mbuf* m, const L2Verdict& v) {
        verdict = v;
        act(m, v);
    });
    // The rest repeat the first frame's verdict when nothing about them could
    // differ: a unicast frame (a multicast one may be the gateway's ARP,
    // which depends on its body) whose source is now fresh in the cache (the
    // others would have only refreshed it; a refused move or a full table
    // counts every frame, so those go one by one).
    const MacCache::Entry* known = cache.find(src_key, macs.generation());
    const bool fresh = known != nullptr && known->port() == ingress && now < known->due;
    if (multicast || !fresh) {
        decide_each(macs, cache, tables, pkts + 1, static_cast<std::uint16_t>(n - 1), now, tally, act);
        return;
    }
    if constexpr (std::invocable<Act&, rte_mbuf**, std::uint16_t, const L2Verdict&>) {
        act(pkts + 1, static_cast<std::uint16_t>(n - 1), verdict);
    } else {
        for (std::uint16_t i = 1; i < n; ++i) act(pkts[i], verdict);
    }
}

}  // namespace dpdock::bridge
