// JSON shapes of the running objects, shared by the command handlers so that
// `ls`, `inspect`, `ps` and the results of mutations describe an object the
// same way. Field names follow Docker's inspect output where one exists.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/model.hpp"
#include "control/state.hpp"
#include "dns/dns_service.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

// One line of `network ls`: name, id, driver, subnet, gateway, containers.
nlohmann::json network_json(const State& state, const std::string& network);
// `network inspect`: Name, Id, Driver, Internal, IPAM.Config, Options, Containers.
nlohmann::json network_inspect_json(const State& state, const std::string& network);
// One container of `ps`: name, netns, method, and its endpoints.
nlohmann::json container_json(const State& state, const std::string& container);

// An EndpointSpec from {"ip","mac"} args (both optional) for `network`.
// The embedded DNS thread's counters (since the daemon started).
nlohmann::json dns_counters_json(const dns::DnsCounters& c);

Result<config::EndpointSpec> endpoint_from_args(const std::string& network, const nlohmann::json& args);

}  // namespace dpdock::control
