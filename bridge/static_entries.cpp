// Keeping the MAC table's static entries converged. See static_entries.hpp.
#include "bridge/static_entries.hpp"

#include "bridge/mac_table.hpp"

namespace dpdock::bridge {

Status StaticEntries::converge(const std::set<StaticEntry>& wanted) {
    for (auto it = installed_.begin(); it != installed_.end();) {
        if (wanted.contains(*it)) {
            ++it;
            continue;
        }
        macs_.remove_static(it->network, it->mac);
        it = installed_.erase(it);
    }
    for (const StaticEntry& entry : wanted) {
        if (installed_.contains(entry)) continue;
        if (auto st = macs_.add_static(entry.network, entry.mac, entry.port); !st) {
            return Status::error("static MAC " + entry.mac.to_string() + ": " + st.message());
        }
        installed_.insert(entry);
    }
    return {};
}

void StaticEntries::forget_port(PortId port) {
    std::erase_if(installed_, [&](const StaticEntry& e) { return e.port == port; });
}

void StaticEntries::remove_network(NetworkId network) {
    std::erase_if(installed_, [&](const StaticEntry& e) {
        if (e.network != network) return false;
        macs_.remove_static(e.network, e.mac);
        return true;
    });
}

}  // namespace dpdock::bridge
