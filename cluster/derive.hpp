// What this host runs for the cluster: the running deployment with its global
// networks replaced by the store's. Each global network gets its peers (the
// VTEPs of the other hosts that have endpoints on it: a host without one needs
// none of the network's floods) and a static FDB + ARP-suppression entry per
// remote endpoint, so remote MACs are known before the first packet. Local
// networks are never touched. Pure function.
#pragma once

#include <string>
#include <vector>

#include "cluster/store_view.hpp"
#include "config/model.hpp"

namespace dpdock::cluster {

struct Derived {
    config::Deployment target;
    std::vector<std::string> skipped;  // global networks not applied here, and why
};

Derived derive(const TypedView& view, const config::Deployment& running, const std::string& host,
               Ipv4Address own_vtep);

// A deployment read from YAML (config reload) holds no global network: the
// running ones and the endpoints of target's containers on them are carried
// over, so a reload never removes a global network from the cluster.
void keep_global(config::Deployment& target, const config::Deployment& running);

}  // namespace dpdock::cluster
