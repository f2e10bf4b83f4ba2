#include "vxlan/vtep_table.hpp"

namespace dpdock::vxlan {

PortId VtepTable::port_of(Ipv4Address ip) {
    const std::uint32_t want = ip.host();
    if (want == 0) return kNoPort;
    for (unsigned i = 0; i < kMaxVteps; ++i) {
        std::uint32_t seen = ips_[i].load(std::memory_order_acquire);
        // Slots fill in order and are never freed: the first free slot ends the search.
        if (seen == 0 && ips_[i].compare_exchange_strong(seen, want, std::memory_order_acq_rel)) {
            return static_cast<PortId>(kVtepPortBase + i);
        }
        if (seen == want) return static_cast<PortId>(kVtepPortBase + i);
    }
    return kNoPort;
}

}  // namespace dpdock::vxlan
