#include "dns/hit_counters.hpp"

namespace dpdock::dns {

void HitCounters::count(const NameTable& names, NetworkId network, const std::string& name) {
    if (names.has(network, name)) ++hits_[{network, lower(name)}];
}

void HitCounters::retain(const NameTable& names) {
    std::erase_if(hits_, [&](const auto& kv) { return !names.has(kv.first.first, kv.first.second); });
}

std::uint64_t HitCounters::get(NetworkId network, const std::string& name) const {
    auto it = hits_.find({network, lower(name)});
    return it == hits_.end() ? 0 : it->second;
}

}  // namespace dpdock::dns
