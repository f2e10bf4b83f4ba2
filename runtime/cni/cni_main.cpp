// dpdock-cni: the CNI 1.0 plugin executable (type "dpdock"). A runtime runs
// it with CNI_COMMAND and the rest of the CNI environment and the network
// configuration on stdin; it answers on stdout (result, or the error JSON and
// exit 1). All the work is requests on dpdockd's control socket.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "runtime/cni/cni_plugin.hpp"
#include "runtime/cni/cni_request.hpp"

namespace {

using dpdock::cni::CniCode;
using dpdock::cni::CniError;

int fail(const CniError& e) {
    std::cout << e.to_json().dump() << '\n';
    return 1;
}

}  // namespace

int main() {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return fail({CniCode::kIoFailure, "could not read the network configuration from stdin", {}});
    auto parsed = dpdock::cni::parse_cni_request([](const char* k) { return std::getenv(k); }, input);
    if (auto* e = std::get_if<CniError>(&parsed)) return fail(*e);
    const auto& request = std::get<dpdock::cni::CniRequest>(parsed);
    if (request.command == dpdock::cni::CniCommand::kVersion) {
        std::cout << dpdock::cni::version_json().dump() << '\n';
        return 0;
    }
    // Attaching hot-plugs a port: seconds at most, but never forever.
    auto client = dpdock::cli::Client::connect(request.socket, std::chrono::seconds(60));
    if (!client) return fail({CniCode::kTryAgainLater, client.message(), "socket " + request.socket});
    auto outcome = dpdock::cni::run_cni(request, *client);
    if (auto* e = std::get_if<CniError>(&outcome)) return fail(*e);
    const auto& result = std::get<nlohmann::json>(outcome);
    if (!result.is_null()) std::cout << result.dump() << '\n';
    return 0;
}
