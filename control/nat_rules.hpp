// The control side of NAT rules: turns the model's publications into the
// snapshot's published-port table, and names every rule (each publication,
// each network's MASQUERADE) to nat::RuleSlots for its counter slot.
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/endpoint.hpp"
#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/dataplane.hpp"
#include "nat/rule_slots.hpp"

namespace dpdock::control {

class NatRules {
public:
    explicit NatRules(const dataplane::Dataplane& dp)
        : slots_([&dp](std::uint32_t slot) { return dp.rule_counter(slot); }) {}

    // The deployment being converged to (resolved: every host port fixed).
    void want(const config::Deployment& d) { containers_ = d.containers; }

    // Fills snap.published with the publications of attached containers (on
    // their first network) and snap.networks[*].masquerade_slot.
    void fill(dataplane::ForwardingSnapshot& snap, const std::vector<Endpoint>& endpoints,
              const std::vector<config::NetworkSpec>& networks, const std::map<std::string, NetworkId>& ids);

    // What the workers see now.
    const nat::PortMap* table() const { return table_.get(); }
    // The MASQUERADE rule's slot of a network, kNoRuleSlot if it has none.
    std::uint32_t masquerade_slot(const std::string& network) const { return slots_.find("masquerade|" + network); }
    // A slot's packets and bytes since its rule got it.
    nat::RuleCounter counters(std::uint32_t slot) const { return slots_.counters(slot); }

private:
    nat::RuleSlots slots_;
    std::vector<config::ContainerSpec> containers_;
    std::shared_ptr<const nat::PortMap> table_;
    std::vector<std::string> table_keys_;          // the rules of table_, to tell whether it changed
};

}  // namespace dpdock::control
