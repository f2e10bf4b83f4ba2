#include "runtime/cni/cni_plugin.hpp"

#include <algorithm>
#include <optional>

namespace dpdock::cni {
namespace {

using nlohmann::json;
using Outcome = std::variant<json, CniError>;

CniError refused(const std::string& msg) { return {CniCode::kDpdockRefused, msg, {}}; }

// The container as container.ps lists it, or nullopt.
std::variant<std::optional<json>, CniError> find_container(cli::Client& client, const std::string& name) {
    auto ps = client.request("container.ps");
    if (!ps) return refused(ps.message());
    for (const auto& c : *ps) {
        if (c.is_object() && c.value("name", "") == name) return std::optional<json>(c);
    }
    return std::optional<json>();
}

// The container's endpoint on `network`, or nullptr.
const json* endpoint_on(const json& container, const std::string& network) {
    // dpdockd's answers are read with at(): a field it did not send throws
    // (run_cni answers it as an error), never a read past the JSON.
    for (const auto& ep : container.at("networks")) {
        if (ep.value("network", "") == network) return &ep;
    }
    return nullptr;
}

// The interface name dpdockd gives the container's next network: the lowest free ethN.
std::string next_interface(const std::optional<json>& container) {
    for (int i = 0;; ++i) {
        const std::string name = "eth" + std::to_string(i);
        if (!container) return name;
        const auto& eps = container->at("networks");
        if (std::none_of(eps.begin(), eps.end(), [&](const json& ep) { return ep.value("interface", "") == name; })) {
            return name;
        }
    }
}

// The result's dns: the netconf's, and where dpdock's embedded DNS answers on
// the network (a user network, not the default bridge) its gateway as the
// only nameserver, with Docker's `ndots:0` (upstream names are forwarded by
// dpdock itself). A failed dns.show leaves the netconf's as it was.
json dns_json(const CniRequest& r, cli::Client& client, const json* ep) {
    json dns = r.dns;
    if (ep == nullptr) return dns;
    auto shown = client.request("dns.show", {{"network", r.network}});
    if (!shown || !shown->value("served", false)) return dns;
    dns["nameservers"] = json::array({ep->at("gateway")});
    json options = dns.contains("options") && dns["options"].is_array() ? dns["options"] : json::array();
    const bool has_ndots = std::any_of(options.begin(), options.end(), [](const json& o) {
        return o.is_string() && o.get<std::string>().starts_with("ndots:");
    });
    if (!has_ndots) options.push_back("ndots:0");
    dns["options"] = options;
    return dns;
}

// CNI 1.0's result for the container's endpoint on the request's network.
json result_json(const CniRequest& r, const json& container, cli::Client& client) {
    const json* ep = endpoint_on(container, r.network);
    json routes = json::array();
    // Only the first network carries the default route (dpdockd installs it on eth0 only).
    if (ep && ep->at("interface") == "eth0") routes.push_back({{"dst", "0.0.0.0/0"}, {"gw", ep->at("gateway")}});
    json out = {{"cniVersion", kCniVersion},
                {"interfaces", json::array({{{"name", r.ifname}, {"sandbox", r.netns}}})},
                {"ips", json::array()},
                {"routes", routes},
                {"dns", dns_json(r, client, ep)}};
    if (ep) {
        out["interfaces"][0]["mac"] = ep->at("mac");
        out["ips"].push_back({{"address", ep->at("ip")}, {"gateway", ep->at("gateway")}, {"interface", 0}});
    }
    return out;
}

Outcome add(const CniRequest& r, cli::Client& client) {
    auto found = find_container(client, r.container);
    if (auto* e = std::get_if<CniError>(&found)) return *e;
    const auto& container = std::get<std::optional<json>>(found);
    if (container && container->value("netns", "") != r.netns) {
        return refused("container " + r.container + " is attached to dpdock from another namespace (" +
                       container->value("netns", "") + ")");
    }
    if (container && endpoint_on(*container, r.network)) {
        return refused("container " + r.container + " is already on dpdock network " + r.network);
    }
    if (const std::string expected = next_interface(container); r.ifname != expected) {
        return refused("CNI_IFNAME " + r.ifname + ": dpdock names a container's interfaces eth0, eth1, ... in the "
                       "order of its networks, and this one would be " + expected);
    }
    Result<json> done = Result<json>::error("");
    if (!container) {
        json args = {{"name", r.container}, {"netns", r.netns}, {"network", r.network}};
        if (!r.publish.empty()) args["publish"] = r.publish;
        done = client.request("container.attach", args);
    } else {
        if (!r.publish.empty()) {
            return refused("runtimeConfig.portMappings: published ports belong to the container's first dpdock "
                           "network, and " + r.container + " already has one");
        }
        done = client.request("network.connect", {{"network", r.network}, {"container", r.container}});
    }
    if (!done) return refused(done.message());
    return result_json(r, *done, client);
}

Outcome del(const CniRequest& r, cli::Client& client) {
    auto found = find_container(client, r.container);
    if (auto* e = std::get_if<CniError>(&found)) return *e;
    const auto& container = std::get<std::optional<json>>(found);
    if (!container || !endpoint_on(*container, r.network)) return json();  // already gone: DEL is idempotent
    Result<json> done = container->at("networks").size() == 1
                            ? client.request("container.detach", {{"name", r.container}})
                            : client.request("network.disconnect", {{"network", r.network}, {"container", r.container}});
    if (!done) return refused(done.message());
    return json();
}

Outcome check(const CniRequest& r, cli::Client& client) {
    auto found = find_container(client, r.container);
    if (auto* e = std::get_if<CniError>(&found)) return *e;
    const auto& container = std::get<std::optional<json>>(found);
    if (!container) return CniError{CniCode::kUnknownContainer, "container " + r.container + " is not attached to dpdock", {}};
    const json* ep = endpoint_on(*container, r.network);
    if (!ep) return CniError{CniCode::kUnknownContainer, "container " + r.container + " is not on dpdock network " + r.network, {}};
    if (container->value("netns", "") != r.netns) {
        return refused("container " + r.container + " is attached from " + container->value("netns", "") + ", not " + r.netns);
    }
    if (ep->value("interface", "") != r.ifname) {
        return refused("container " + r.container + " has dpdock network " + r.network + " on " +
                       ep->value("interface", "") + ", not " + r.ifname);
    }
    return json();
}

}  // namespace

json version_json() { return {{"cniVersion", kCniVersion}, {"supportedVersions", json::array({kCniVersion})}}; }

Outcome run_cni(const CniRequest& request, cli::Client& client) {
    try {
        switch (request.command) {
            case CniCommand::kAdd: return add(request, client);
            case CniCommand::kDel: return del(request, client);
            case CniCommand::kCheck: return check(request, client);
            case CniCommand::kVersion: break;
        }
    } catch (const std::exception& e) {
        // A field missing from dpdockd's answer, or of another type: the
        // runtime gets a CNI error, not a plugin killed by std::terminate.
        return refused(std::string("malformed answer from dpdockd: ") + e.what());
    }
    return version_json();
}

}  // namespace dpdock::cni
