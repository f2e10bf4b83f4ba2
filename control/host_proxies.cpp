#include "control/host_proxies.hpp"

#include <algorithm>
#include <set>

#include "config/publish_rules.hpp"

namespace dpdock::control {
namespace {

std::set<host_proxy::Forward> wanted_forwards(const config::Deployment& target, const std::vector<Endpoint>& endpoints,
                                             const std::vector<config::NetworkSpec>& networks) {
    std::set<host_proxy::Forward> out;
    if (!target.exception.enabled) return out;
    for (const auto& c : target.containers) {
        if (c.publish.empty() || c.networks.empty()) continue;
        const std::string& first = c.networks.front().network;
        auto ep = std::find_if(endpoints.begin(), endpoints.end(), [&](const Endpoint& e) {
            return e.request.container == c.name && e.request.network == first;
        });
        auto net = std::find_if(networks.begin(), networks.end(),
                                [&](const config::NetworkSpec& n) { return n.name == first; });
        if (ep == endpoints.end() || net == networks.end()) continue;  // not attached (yet)
        for (const auto& p : c.publish) {
            if (!p.host || p.proto != config::PortProto::Tcp) continue;  // resolve() fixed every host port
            for (std::uint32_t port = p.host->lo; port <= p.host->hi; ++port) {
                const std::uint32_t offset = p.container.size() == 1 ? 0 : port - p.host->lo;
                out.insert({config::binding_of(p, *net), static_cast<std::uint16_t>(port), ep->request.ip,
                            static_cast<std::uint16_t>(p.container.lo + offset)});
            }
        }
    }
    return out;
}

}  // namespace

Status HostProxies::converge(const config::Deployment& target, const std::vector<Endpoint>& endpoints,
                             const std::vector<config::NetworkSpec>& networks) {
    const auto wanted = wanted_forwards(target, endpoints, networks);
    for (const auto& f : proxy_.forwards()) {
        if (!wanted.contains(f)) proxy_.remove(f);
    }
    const auto running = proxy_.forwards();
    for (const auto& f : wanted) {
        if (std::find(running.begin(), running.end(), f) != running.end()) continue;
        if (auto st = proxy_.add(f); !st) return st;
    }
    return {};
}

}  // namespace dpdock::control
