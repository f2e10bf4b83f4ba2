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

// What the bridge's verdict on a unicast frame depends on besides its
// addresses: network, ingress port and L3 type (ICC blocks IPv4 only), as
// one word. kNoRun matches no frame.
inline std::uint64_t run_key(const PacketMeta& meta) {
    return std::uint64_t{static_cast<std::uint8_t>(meta.l3_type)} << 32 | std::uint32_t{meta.network} << 16 |
           meta.ingress_port;
}
inline constexpr std::uint64_t kNoRun = ~std::uint64_t{0};

// Both addresses of an Ethernet header (its first 12 bytes) as two words.
struct Addresses {
    std::uint64_t head = 0;  // bytes 0..7
    std::uint32_t tail = 0;  // bytes 8..11
    explicit Addresses(const rte_ether_hdr& eth) {
        std::memcpy(&head, &eth, sizeof head);
        std::memcpy(&tail, reinterpret_cast<const std::uint8_t*>(&eth) + sizeof head, sizeof tail);
    }
    Addresses() = default;
    // The tail first: it is the end of the source, where frames differ most.
    bool operator==(const Addresses& o) const { return tail == o.tail && head == o.head; }
};

}  // namespace detail

// Decides for pkts[0..n) (parsed, each with its network): act(m, verdict)
// once per frame, in order within each phase; `tally` counts what learning
// did. Three phases, as a burst should be: gather the keys (frames refused
// here are decided at once), learn and look up in bulk, decide the rest.
// `act` may store a frame back into pkts[] at an index it has passed (the
// engine compacts the gateway's frames to the front). `cache` is the
// worker's own: sources it knows fresh on their port skip learning, and
// destinations it knows skip the table. A unicast frame with the same
// addresses, network, ingress port and L3 type as the frame decided before it
// (a flow's frames come in runs) takes that frame's verdict without a second
// look: every input of the verdict is the same.
template <BridgeTables Tables, class Act>
    requires std::invocable<Act&, rte_mbuf*, const L2Verdict&>
void decide_burst(MacTable& macs, MacCache& cache, const Tables& tables, rte_mbuf** pkts, std::uint16_t n,
                  std::uint64_t now, LearnTally& tally, Act&& act) {
    std::uint64_t src_keys[kMaxBurst];
    PortId src_ports[kMaxBurst];
    std::uint64_t dst_keys[kMaxBurst];
    bool repeat[kMaxBurst];  // frame i takes the verdict of the frame kept before it
    const std::uint64_t generation = macs.generation();
    unsigned n_src = 0;
    unsigned n_unicast = 0;
    NetworkId learn_network = kNoNetwork;
    const Domain* domain = nullptr;  // learn_network's
    std::uint64_t own_gateway = 0;
    // The run: the last frame kept as unicast, which the next frame may repeat.
    detail::Addresses run_addresses;
    std::uint64_t run_key = detail::kNoRun;
    bool run_learns = false;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        const PacketMeta& meta = packet_meta(m);
        const detail::Addresses addresses(*eth);
        // Addresses first: they differ when frames of several flows interleave.
        repeat[i] = addresses == run_addresses && detail::run_key(meta) == run_key;
        if (repeat[i]) {
            // Learning counts every frame (a refused move counts each time), so a
            // source that needs the table goes there once per frame, as before.
            if (run_learns) {
                src_keys[n_src] = src_keys[n_src - 1];
                src_ports[n_src] = src_ports[n_src - 1];
                ++n_src;
            }
            continue;
        }
        run_key = detail::kNoRun;
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
        const bool learns = known == nullptr || known->port() != meta.ingress_port || now >= known->due;
        if (learns) {
            src_keys[n_src] = src_key;
            src_ports[n_src++] = meta.ingress_port;
        }
        const std::uint64_t dst = detail::mac_bits(eth->dst_addr);
        if (domain->icc_blocks(meta, dst)) {  // its source is still learned
            pkts[i] = nullptr;
            act(m, L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::IccBlocked});
            continue;
        }
        if ((meta.flags & kFlagMulticast) == 0) {
            dst_keys[n_unicast++] = MacKey::pack(meta.network, dst);
            run_addresses = addresses;
            run_key = detail::run_key(meta);
            run_learns = learns;
        }
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
    L2Verdict last{L2Verdict::Kind::Drop, kNoPort, DropReason::Count};  // of the frame decided before
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m == nullptr) continue;
        if (repeat[i]) {
            act(m, last);
            continue;
        }
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
            last = L2Verdict{L2Verdict::Kind::Gateway, kNoPort, DropReason::Count};
        } else if (is_remote_port(dst_port)) {
            // Behind a remote VTEP (overlay networks only). The overlay is one
            // split-horizon group, as the VTEPs of a full mesh are: what came
            // from it never goes back into it (the sender reaches every peer
            // itself), so no duplicates, no loops, and nothing is ever sent
            // back towards a VTEP pseudo port as if it were an ethdev port.
            last = is_remote_port(meta.ingress_port) ? L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::SplitHorizon}
                                                     : L2Verdict{L2Verdict::Kind::Remote, dst_port, DropReason::Count};
        } else if (dst_port == meta.ingress_port) {
            last = L2Verdict{L2Verdict::Kind::Drop, kNoPort, DropReason::SamePort};
        } else if (dst_port == kNoPort || !tables.port_in_network(dst_port, meta.network)) {
            // Unknown, or learned on a port that has since left the network
            // (its entries are flushed by the control thread shortly after).
            last = L2Verdict{L2Verdict::Kind::Flood, kNoPort, DropReason::Count};
        } else {
            last = L2Verdict{L2Verdict::Kind::Port, dst_port, DropReason::Count};
        }
        act(m, last);
    }
}

}  // namespace dpdock::bridge
