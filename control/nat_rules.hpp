// The control side of NAT rules: turns the model's publications into the
// snapshot's published-port table, and gives every rule (each publication,
// each network's MASQUERADE) a counter slot it keeps while it exists, with a
// baseline so a reused slot starts from zero. Control thread only.
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

namespace dpdock::control {

class NatRules {
public:
    explicit NatRules(dataplane::Dataplane& dp) : dp_(dp) {}

    // The deployment being converged to (resolved: every host port fixed).
    void want(const config::Deployment& d) { containers_ = d.containers; }

    // Fills snap.published with the publications of attached containers (on
    // their first network) and snap.networks[*].masquerade_slot.
    void fill(dataplane::ForwardingSnapshot& snap, const std::vector<Endpoint>& endpoints,
              const std::vector<config::NetworkSpec>& networks, const std::map<std::string, NetworkId>& ids);

    // What the workers see now.
    const nat::PortMap* table() const { return table_.get(); }
    // The MASQUERADE rule's slot of a network, kNoRuleSlot if it has none.
    std::uint32_t masquerade_slot(const std::string& network) const;
    // A slot's packets and bytes since its rule got it.
    nat::RuleCounter counters(std::uint32_t slot) const;

private:
    std::uint32_t slot_for(const std::string& key, std::map<std::string, std::uint32_t>& next);

    dataplane::Dataplane& dp_;
    std::vector<config::ContainerSpec> containers_;
    std::shared_ptr<const nat::PortMap> table_;
    std::vector<std::string> table_keys_;          // the rules of table_, to tell whether it changed
    std::map<std::string, std::uint32_t> slots_;   // rule key -> slot
    std::vector<nat::RuleCounter> baselines_ = std::vector<nat::RuleCounter>(nat::kMaxRuleSlots);
    std::vector<std::uint32_t> free_;              // slots no rule holds
    std::vector<std::uint32_t> cooling_;           // released by the last fill: an older snapshot may still count on them
    std::uint32_t next_fresh_ = 0;
};

}  // namespace dpdock::control
