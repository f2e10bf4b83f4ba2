// Queries answered from the names table, per (network, name), for `dpdock dns`.
// Bounded by the table: a name is counted only while the table holds it under
// that network, and retain() forgets the names a new table no longer has, so
// detached containers and PTR or foreign names never pile up. Not thread-safe:
// DnsService guards it with its mutex (the DNS thread counts, the control
// thread swaps tables and reads).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "base/packet/net_types.hpp"
#include "dns/name_table.hpp"

namespace dpdock::dns {

class HitCounters {
public:
    void count(const NameTable& names, NetworkId network, const std::string& name);
    void retain(const NameTable& names);
    std::uint64_t get(NetworkId network, const std::string& name) const;
    std::size_t size() const { return hits_.size(); }

private:
    std::map<std::pair<NetworkId, std::string>, std::uint64_t> hits_;
};

}  // namespace dpdock::dns
