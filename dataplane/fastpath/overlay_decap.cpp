// overlay_decap_stage: VXLAN arriving on the uplink. See overlay.hpp; the
// decapsulation itself is vxlan/fastpath/decap.hpp.
#include "dataplane/fastpath/overlay.hpp"
#include "vxlan/fastpath/decap.hpp"

namespace dpdock::dataplane {

std::uint16_t overlay_decap_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                                  std::uint16_t n, rte_mbuf** inner, std::uint16_t& n_inner, std::uint64_t now) {
    const Ipv4Address host = snap.uplink->address.address();
    std::uint16_t kept = 0;
    n_inner = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (!vxlan::is_for_this_vtep(m, packet_meta(m), host, snap.vxlan)) {
            pkts[kept++] = m;
            continue;
        }
        const vxlan::Decapsulated d = vxlan::decapsulate(m, snap.segments, snap.vxlan, *ctx.vteps, now);
        if (!d.accepted()) {
            drop_packet(ctx, m, d.refused);
            continue;
        }
        inner[n_inner++] = m;
    }
    return kept;
}

}  // namespace dpdock::dataplane
