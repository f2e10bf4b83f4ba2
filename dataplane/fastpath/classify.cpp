// classify_stage: parse + ingress network. See stages.hpp.
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/parse.hpp"

namespace dpdock::dataplane {

std::uint16_t classify_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                             std::uint16_t n) {
    std::uint16_t kept = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (auto reason = parse_packet(m)) {
            drop_packet(ctx, m, *reason);
            continue;
        }
        const NetworkId network = m->port < snap.ports.size() ? snap.ports[m->port].network : kNoNetwork;
        const dataplane::PortRole role = m->port < snap.ports.size() ? snap.ports[m->port].role : dataplane::PortRole::Unused;
        const bool uplink = role == dataplane::PortRole::Uplink || role == dataplane::PortRole::Host;  // in no network
        if (!uplink && (network == kNoNetwork || snap.ports[m->port].role == dataplane::PortRole::Unused)) {
            drop_packet(ctx, m, DropReason::NoNetwork);
            continue;
        }
        packet_meta(m).network = network;
        pkts[kept++] = m;
    }
    return kept;
}

}  // namespace dpdock::dataplane
