// HostProxies: the published ports the host proxy (host_proxy/) serves, so
// that the host itself reaches them (`curl localhost:8080`, Docker's
// docker-proxy): with the exception path on, every TCP publication of an
// attached container gets a listener on its binding address (0.0.0.0, the
// host address, or 127.0.0.x: the only way to a loopback binding, which the
// dataplane never matches) in the daemon's netns, forwarding to the
// container's address and port through dpdock0. Off: no listener at all
// (validation refuses loopback bindings then). Control thread only.
#pragma once

#include <vector>

#include "config/model.hpp"
#include "control/endpoint.hpp"
#include "host_proxy/tcp_proxy.hpp"

namespace dpdock::control {

class HostProxies {
public:
    // Closes the listeners `target` no longer has, opens the new ones. On a
    // bind failure (the port is taken in the host's netns) returns Docker's
    // message; the caller converges back to the previous model.
    Status converge(const config::Deployment& target, const std::vector<Endpoint>& endpoints,
                    const std::vector<config::NetworkSpec>& networks);

    const host_proxy::TcpProxy& proxy() const { return proxy_; }

private:
    host_proxy::TcpProxy proxy_;
};

}  // namespace dpdock::control
