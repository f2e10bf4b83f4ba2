#include "nat/published_ports.hpp"

namespace dpdock::nat {

PortMap::PortMap() : index_(std::make_unique<std::uint32_t[]>(2 * kPorts)) {}

bool PortMap::add(const PublishedRule& rule) {
    const std::size_t base = rule.proto == IPPROTO_UDP ? kPorts : 0;
    for (std::uint32_t p = rule.host_lo; p <= rule.host_hi; ++p) {
        if (index_[base + p] != 0) return false;
    }
    rules_.push_back(rule);
    for (std::uint32_t p = rule.host_lo; p <= rule.host_hi; ++p) {
        index_[base + p] = static_cast<std::uint32_t>(rules_.size());
    }
    return true;
}

}  // namespace dpdock::nat
