#include "nat/conntrack_flush.hpp"

#include <rte_byteorder.h>

namespace dpdock::nat {

std::uint32_t flush_network(Conntrack& ct, NetworkId network) {
    return ct.flush([&](const Entry& e) { return e.network == network; });
}

std::uint32_t flush_rules(Conntrack& ct, const PortMap& rules) {
    return ct.flush([&](const Entry& e) {
        return e.kind != EntryKind::Masquerade &&
               rules.find(e.original.proto, rte_be_to_cpu_16(e.original.dst_port)) != nullptr;
    });
}

bool same_translation(const PublishedRule& a, const PublishedRule& b) {
    return a.proto == b.proto && a.host_lo == b.host_lo && a.host_hi == b.host_hi &&
           a.container_lo == b.container_lo && a.one_container_port == b.one_container_port &&
           a.container_ip == b.container_ip && a.container_mac == b.container_mac && a.network == b.network &&
           a.gateway == b.gateway;
}

}  // namespace dpdock::nat
