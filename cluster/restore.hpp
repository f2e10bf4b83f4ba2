// A restarted host's endpoints on global networks. `dpdock config save`
// writes global networks (scope: global, name and subnet only) and this
// host's endpoints on them like any other; at start they cannot simply be
// applied: the store owns the networks (VNI, peers), and every address must be
// claimed again in etcd. split_global() takes them out of the deployment the
// daemon starts with; control/cluster_sync restores them one endpoint at a
// time, with the saved address and MAC, once the store has the network and
// this host holds a lease. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"

namespace dpdock::cluster {

struct SavedEndpoint {
    config::ContainerSpec container;  // as saved: netns, method, the order of its networks
    config::EndpointSpec endpoint;    // on a global network, with its address
};

// Removes global networks and the endpoints on them from `d` (a container
// left with no network goes too) and returns those endpoints.
std::vector<SavedEndpoint> split_global(config::Deployment& d);

enum class SavedOutcome {
    Added,            // `target` holds the endpoint again
    NotInStore,       // no global network of that name in `target` (not in the store yet): try again later
    OtherNamespace,   // a container of that name runs with another namespace: a different container now
    AlreadyAttached,  // the container is on that network already (attached again since): what runs is kept
};

// `target` with the saved endpoint added back: to its container (made again
// when absent), at its saved place among the container's networks. Only
// Added changes `target`.
SavedOutcome add_saved(config::Deployment& target, const SavedEndpoint& saved);

}  // namespace dpdock::cluster
