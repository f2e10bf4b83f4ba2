// Docker's remote-driver requests as dpdock's control requests, and back:
// the names dpdock gives Docker's networks and endpoints, CreateNetwork's IPAM
// data and options as `network.create` arguments, Docker's port bindings as
// `docker run -p` strings and dpdock's published ports as Docker's bindings.
// Pure functions, no I/O: every refusal names what Docker asked for.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/util/status.hpp"

namespace dpdock::docker {

// "docker-" and the first 12 characters of Docker's id (as `docker network
// ls` shortens it); an error when `id` is not a Docker id (1-64 letters and digits).
Result<std::string> dpdock_name(const nlohmann::json& request, const char* id_key);

// CreateNetwork -> network.create's arguments (name from NetworkID).
Result<nlohmann::json> network_create_args(const nlohmann::json& request);

// The options of ProgramExternalConnectivity (com.docker.network.portmap,
// com.docker.network.endpoint.exposedports) -> container.publish's arguments.
Result<nlohmann::json> publish_args(const std::string& container, const nlohmann::json& options);

// container.port's list -> com.docker.network.portmap as Docker's PortBinding objects.
nlohmann::json port_bindings(const nlohmann::json& container_ports);

}  // namespace dpdock::docker
