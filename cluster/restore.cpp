#include "cluster/restore.hpp"

#include <algorithm>
#include <set>

namespace dpdock::cluster {

std::vector<SavedEndpoint> split_global(config::Deployment& d) {
    std::set<std::string> global;
    for (const auto& n : d.networks) {
        if (n.global) global.insert(n.name);
    }
    std::vector<SavedEndpoint> out;
    for (auto& c : d.containers) {
        for (const auto& e : c.networks) {
            if (global.contains(e.network)) out.push_back({c, e});
        }
        const bool had = !c.networks.empty();
        std::erase_if(c.networks, [&](const config::EndpointSpec& e) { return global.contains(e.network); });
        if (had && c.networks.empty()) c.name.clear();  // only on global networks: attached when restored
    }
    std::erase_if(d.containers, [](const config::ContainerSpec& c) { return c.name.empty(); });
    std::erase_if(d.networks, [](const config::NetworkSpec& n) { return n.global; });
    return out;
}

SavedOutcome add_saved(config::Deployment& target, const SavedEndpoint& saved) {
    const bool in_store = std::any_of(target.networks.begin(), target.networks.end(), [&](const auto& n) {
        return n.global && n.name == saved.endpoint.network;
    });
    if (!in_store) return SavedOutcome::NotInStore;
    auto c = std::find_if(target.containers.begin(), target.containers.end(),
                          [&](const config::ContainerSpec& x) { return x.name == saved.container.name; });
    if (c == target.containers.end()) {
        config::ContainerSpec fresh = saved.container;
        fresh.networks = {saved.endpoint};
        target.containers.push_back(std::move(fresh));
        return SavedOutcome::Added;
    }
    if (c->netns != saved.container.netns) return SavedOutcome::OtherNamespace;
    if (std::any_of(c->networks.begin(), c->networks.end(),
                    [&](const config::EndpointSpec& e) { return e.network == saved.endpoint.network; })) {
        return SavedOutcome::AlreadyAttached;
    }
    // The saved order (the first network gives the default route), with what runs now.
    std::vector<config::EndpointSpec> ordered;
    for (const auto& e : saved.container.networks) {
        if (e.network == saved.endpoint.network) {
            ordered.push_back(saved.endpoint);
            continue;
        }
        auto running = std::find_if(c->networks.begin(), c->networks.end(),
                                    [&](const config::EndpointSpec& x) { return x.network == e.network; });
        if (running != c->networks.end()) ordered.push_back(*running);
    }
    for (const auto& e : c->networks) {
        if (std::none_of(ordered.begin(), ordered.end(), [&](const auto& x) { return x.network == e.network; })) {
            ordered.push_back(e);
        }
    }
    c->networks = std::move(ordered);
    return SavedOutcome::Added;
}

}  // namespace dpdock::cluster
