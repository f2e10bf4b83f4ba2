// CniRequest: one invocation of dpdock-cni as CNI 1.0 defines it (the CNI_*
// environment plus the network configuration on stdin), checked once into
// plain fields. Parsing is pure and never throws: a bad input becomes a
// CniError with the spec's code, before anything talks to dpdockd.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/cni/cni_error.hpp"

namespace dpdock::cni {

enum class CniCommand { kAdd, kDel, kCheck, kVersion };

inline constexpr const char* kDefaultSocket = "/run/dpdock/dpdock.sock";

struct CniRequest {
    CniCommand command = CniCommand::kVersion;
    std::string container;       // dpdock's container name: CNI_CONTAINERID (at most 63 characters)
    std::string netns;           // CNI_NETNS, /var/run/netns/X as /run/netns/X; may be empty for DEL
    std::string ifname;          // CNI_IFNAME
    std::string network;         // netconf "network", default its "name"
    std::string socket;          // netconf "socket", default kDefaultSocket
    std::vector<std::string> publish;  // runtimeConfig.portMappings as `docker run -p` strings
    nlohmann::json dns = nlohmann::json::object();  // netconf "dns", passed into the result
};

// getenv: the environment (std::getenv in the program, a map in tests).
std::variant<CniRequest, CniError> parse_cni_request(const std::function<const char*(const char*)>& getenv,
                                                     std::string_view netconf_text);

}  // namespace dpdock::cni
