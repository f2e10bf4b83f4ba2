#include "control/cluster_sync.hpp"

#include <cstdio>

#include "cluster/derive.hpp"

namespace dpdock::control {

void ClusterSync::on_view_changed() {
    const cluster::TypedView view = agent_.view();
    cluster::Derived derived = cluster::derive(view, state_.deployment(), agent_.host(), agent_.vtep());
    std::set<std::string> skipped(derived.skipped.begin(), derived.skipped.end());
    for (const auto& why : skipped) {
        if (!reported_.contains(why)) std::fprintf(stderr, "dpdockd: cluster: not applied: %s\n", why.c_str());
    }
    reported_ = std::move(skipped);
    if (derived.target != state_.deployment()) {
        if (auto st = state_.apply(std::move(derived.target)); !st) {
            ++apply_errors_;
            std::fprintf(stderr, "dpdockd: cluster: applying the store's networks: %s\n", st.message().c_str());
        }
    }
    restore_saved();
}

// One apply per endpoint, so one address lost to another host does not keep
// the others down.
void ClusterSync::restore_saved() {
    if (saved_.empty() || !agent_.own_synced()) return;
    for (auto it = saved_.begin(); it != saved_.end();) {
        config::Deployment target = state_.deployment();
        const cluster::SavedOutcome outcome = cluster::add_saved(target, *it);
        if (outcome == cluster::SavedOutcome::NotInStore) {
            ++it;  // tried again at the next change of the store
            continue;
        }
        const std::string what = "container " + it->container.name + " on " + it->endpoint.network + " (" +
                                 (it->endpoint.ip ? it->endpoint.ip->to_string() : std::string("no address")) + ")";
        if (outcome != cluster::SavedOutcome::Added) {
            std::fprintf(stderr, "dpdockd: cluster: not restored: %s: %s\n", what.c_str(),
                         outcome == cluster::SavedOutcome::OtherNamespace
                             ? "a container of that name runs in another network namespace now"
                             : "the container is attached to that network already; that endpoint is kept");
        } else if (auto st = state_.apply(std::move(target)); st) {
            std::fprintf(stderr, "dpdockd: cluster: restored %s\n", what.c_str());
        } else if (!agent_.connected()) {
            return;  // etcd went away meanwhile: tried again when it is back
        } else {
            ++apply_errors_;
            std::fprintf(stderr, "dpdockd: cluster: not restored: %s: %s\n", what.c_str(), st.message().c_str());
        }
        it = saved_.erase(it);
    }
}

}  // namespace dpdock::control
