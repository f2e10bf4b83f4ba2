// Driver: libnetwork's remote network driver protocol (Plugin.Activate,
// NetworkDriver.*) answered by requests on dpdockd's control socket. A Docker
// network is a dpdock network named "docker-<id>"; a Docker endpoint is a
// dpdock container of method docker with that one network: its veth's
// container end is made, unconfigured, in the plugin's own namespace (which
// must be dockerd's), and Docker moves it into the sandbox after Join.
// Deleting or leaving what is gone succeeds (Docker repeats them after
// restarts). Holds no state of its own: dpdockd's model is the truth, so
// either side may restart. Single-threaded: the server calls it in turn.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dpdock::docker {

class Driver {
public:
    // control_socket: dpdockd's; netns: where the container ends are made
    // (/proc/<plugin pid>/ns/net); save: after every change, have dpdockd
    // write its --config file (config.save).
    Driver(std::string control_socket, std::string netns, bool save);

    // The answer to POST /<method> with `body`: the method's result, or
    // {"Err": "..."} when refused. nullopt: no such method (HTTP 404, which
    // Docker reads as "not implemented").
    std::optional<nlohmann::json> handle(const std::string& method, const nlohmann::json& body);

private:
    std::string socket_;
    std::string netns_;
    bool save_;
};

}  // namespace dpdock::docker
