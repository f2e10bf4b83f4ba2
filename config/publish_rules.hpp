// Whole-model rules for published ports (validate) and the choice of dynamic
// host ports (resolve). Pure functions on the model, control thread only.
#pragma once

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

// Every publication has an uplink to arrive on, a non-internal first network
// to go to, a binding address dpdock owns (0.0.0.0 or the uplink's; 127.0.0.0/8,
// TCP only, when the exception path is on: the host proxy serves it), and no
// fixed host port that another publication (of any container) also takes.
Status check_publications(const Deployment& d);

// -P: each exposed port not published yet gets a dynamic publication. Then
// every publication without a fixed host port (dynamic, or a host range for
// one container port) gets free host ports: from nat.dynamic_ports, or from
// its own host range; the spec is rewritten to them, so `config save` keeps
// them. Containers in file order, so the same file yields the same ports.
Status resolve_publications(Deployment& d);

// The address a publication is bound to: its own, else its network's
// host_binding_ipv4, else 0.0.0.0.
Ipv4Address binding_of(const PublishSpec& p, const NetworkSpec& network);
// 127.0.0.0/8: a binding only the host itself reaches (never the uplink's traffic).
bool is_loopback(Ipv4Address a);

}  // namespace dpdock::config
