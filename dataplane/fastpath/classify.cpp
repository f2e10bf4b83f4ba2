// classify_stage and parse_l4_stage: parsing and the ingress network. See stages.hpp.
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/parse.hpp"

namespace dpdock::dataplane {
namespace {

// The network a port's frames enter, or not accepted (a port outside any
// network); the uplink and the host interface sit in no network and pass.
// Uplink and host-interface frames go to stages that read L4: they are parsed
// whole at once; a network member's only to L3, which the bridge reads.
struct Ingress {
    NetworkId network = kNoNetwork;
    bool accepted = false;
    bool whole = false;
};

Ingress ingress_of(const dataplane::ForwardingSnapshot& snap, PortId port) {
    if (port >= snap.ports.size()) return {};
    const dataplane::PortInfo& info = snap.ports[port];
    if (info.role == dataplane::PortRole::Uplink || info.role == dataplane::PortRole::Host) {
        return {info.network, true, true};
    }
    if (info.role == dataplane::PortRole::Unused || info.network == kNoNetwork) return {};
    return {info.network, true};
}

}  // namespace

std::uint16_t classify_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                             std::uint16_t n) {
    std::uint16_t kept = 0;
    // A burst comes from one rx queue, so the port's verdict is looked up once.
    PortId port = kNoPort;
    Ingress ingress;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m->port != port) [[unlikely]] {
            port = m->port;
            ingress = ingress_of(snap, port);
        }
        if (auto reason = ingress.whole ? parse_packet(m) : parse_l3(m)) {
            drop_packet(ctx, m, *reason);
            continue;
        }
        if (!ingress.accepted) {
            drop_packet(ctx, m, DropReason::NoNetwork);
            continue;
        }
        packet_meta(m).network = ingress.network;
        pkts[kept++] = m;
    }
    return kept;
}

std::uint16_t parse_l4_stage(WorkerContext& ctx, rte_mbuf** pkts, std::uint16_t n) {
    std::uint16_t kept = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (auto reason = parse_l4(m)) {
            drop_packet(ctx, m, *reason);
            continue;
        }
        pkts[kept++] = m;
    }
    return kept;
}

}  // namespace dpdock::dataplane
