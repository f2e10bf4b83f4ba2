// run_cni: what ADD, DEL and CHECK do, as requests on dpdockd's control socket
// (container.ps, container.attach, network.connect, network.disconnect,
// container.detach). The first dpdock network of a container id attaches it
// (eth0, default route, published ports); later ones connect it (eth1, ...).
// DEL of something absent succeeds, as the spec asks. Returns the result JSON
// (empty for DEL and CHECK) or the CNI error.
#pragma once

#include <variant>

#include <nlohmann/json.hpp>

#include "control/cli/client.hpp"
#include "runtime/cni/cni_request.hpp"

namespace dpdock::cni {

std::variant<nlohmann::json, CniError> run_cni(const CniRequest& request, cli::Client& client);

// The VERSION answer.
nlohmann::json version_json();

}  // namespace dpdock::cni
