// The control thread's side of the cluster: when the agent's view of the
// store changes, converge State to cluster::derive()'s deployment (global
// networks, their peers, remote MACs) through State::apply, the one way the
// daemon changes. After a restart it also restores this host's saved
// endpoints on global networks (cluster/restore.hpp): each once the store has
// its network and the host holds a lease, with its saved address claimed
// again; one that cannot be (another host took the address) is logged and
// dropped, never attached twice. Control thread only.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cluster/agent.hpp"
#include "cluster/restore.hpp"
#include "control/state.hpp"

namespace dpdock::control {

class ClusterSync {
public:
    ClusterSync(State& state, cluster::Agent& agent, std::vector<cluster::SavedEndpoint> saved = {})
        : state_(state), agent_(agent), saved_(std::move(saved)) {}
    void on_view_changed();
    std::uint64_t apply_errors() const { return apply_errors_; }

private:
    void restore_saved();

    State& state_;
    cluster::Agent& agent_;
    std::vector<cluster::SavedEndpoint> saved_;  // not restored yet
    std::set<std::string> reported_;  // skipped networks already logged
    std::uint64_t apply_errors_ = 0;
};

}  // namespace dpdock::control
