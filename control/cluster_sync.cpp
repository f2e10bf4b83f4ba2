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
    if (derived.target == state_.deployment()) return;
    if (auto st = state_.apply(std::move(derived.target)); !st) {
        ++apply_errors_;
        std::fprintf(stderr, "dpdockd: cluster: applying the store's networks: %s\n", st.message().c_str());
    }
}

}  // namespace dpdock::control
