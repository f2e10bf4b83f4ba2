// The control thread's side of the cluster: when the agent's view of the
// store changes, converge State to cluster::derive()'s deployment (global
// networks, their peers, remote MACs) through State::apply, the one way the
// daemon changes. Control thread only.
#pragma once

#include <set>
#include <string>

#include "cluster/agent.hpp"
#include "control/state.hpp"

namespace dpdock::control {

class ClusterSync {
public:
    ClusterSync(State& state, cluster::Agent& agent) : state_(state), agent_(agent) {}
    void on_view_changed();
    std::uint64_t apply_errors() const { return apply_errors_; }

private:
    State& state_;
    cluster::Agent& agent_;
    std::set<std::string> reported_;  // skipped networks already logged
    std::uint64_t apply_errors_ = 0;
};

}  // namespace dpdock::control
