#include "runtime/docker/driver.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>

#include "control/cli/client.hpp"
#include "runtime/docker/translate.hpp"

namespace dpdock::docker {
namespace {

using nlohmann::json;
using Answer = Result<json>;

// Attaching hot-plugs a port: seconds at most, but never forever.
constexpr auto kControlTimeout = std::chrono::seconds(60);

class Calls {
public:
    Calls(const std::string& socket, const std::string& netns, bool save) : socket_(socket), netns_(netns), save_(save) {}

    Answer create_network(const json& body) {
        auto args = network_create_args(body);
        if (!args) return args;
        auto done = change("network.create", *args);
        if (!done) return done;
        return json::object();
    }

    Answer delete_network(const json& body) {
        auto name = dpdock_name(body, "NetworkID");
        if (!name) return name.status();
        auto networks = request("network.ls");
        if (!networks) return networks;
        for (const auto& n : *networks) {
            if (n.value("name", "") != *name) continue;
            auto done = change("network.rm", {{"names", json::array({*name})}});
            if (!done) return done;
        }
        return json::object();  // already gone: Docker retries deletes
    }

    Answer create_endpoint(const json& body) {
        auto network = dpdock_name(body, "NetworkID");
        if (!network) return network.status();
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        const json given = body.contains("Interface") && body["Interface"].is_object() ? body["Interface"] : json::object();
        const std::string address = given.value("Address", "");
        const std::string mac = given.value("MacAddress", "");
        if (!given.value("AddressIPv6", "").empty()) return Answer::error("IPv6 addresses are not supported by dpdock");
        json args = {{"name", *name}, {"netns", netns_}, {"network", *network}, {"method", "docker"}};
        if (!address.empty()) args["ip"] = address.substr(0, address.find('/'));
        if (!mac.empty()) args["mac"] = mac;
        auto attached = change("container.attach", args);
        if (!attached) return attached;
        // dpdockd's answers are read with at(): a field it did not send is
        // an error answer (caught in handle()), never a read past a map.
        const json& ep = attached->at("networks").at(0);
        // Docker refuses an answer that repeats what it gave: only the rest.
        json chosen = json::object();
        if (address.empty()) chosen["Address"] = ep.at("ip");
        if (mac.empty()) chosen["MacAddress"] = ep.at("mac");
        if (chosen.empty()) return json::object();
        return json{{"Interface", chosen}};
    }

    Answer delete_endpoint(const json& body) {
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        auto container = find_container(*name);
        if (!container) return container.status();
        if (container->is_null()) return json::object();  // already gone (or its veth was)
        auto done = change("container.detach", {{"name", *name}});
        if (!done) return done;
        return json::object();
    }

    Answer join(const json& body) {
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        auto container = find_container(*name);
        if (!container) return container.status();
        if (container->is_null()) return Answer::error("endpoint " + body["EndpointID"].get<std::string>() + " not found");
        const json& ep = container->at("networks").at(0);
        json out = {{"InterfaceName", {{"SrcName", ep.at("interface")}, {"DstPrefix", "eth"}}},
                    {"StaticRoutes", json::array()}};
        // An internal network has no way out: no default route, as Docker's bridge.
        auto internal = network_internal(ep.value("network", ""));
        if (!internal) return internal.status();
        if (!*internal) out["Gateway"] = ep.at("gateway");
        return out;
    }

    Answer oper_info(const json& body) {
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        auto container = find_container(*name);
        if (!container) return container.status();
        json value = json::object();
        if (!container->is_null()) {
            auto ports = request("container.port", {{"name", *name}});
            if (!ports) return ports;
            value["com.docker.network.portmap"] = port_bindings(*ports);
            value["com.docker.network.endpoint.macaddress"] = container->at("networks").at(0).at("mac");
        }
        return json{{"Value", value}};
    }

    Answer program_external(const json& body) {
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        auto args = publish_args(*name, body.contains("Options") ? body["Options"] : json::object());
        if (!args) return args;
        auto done = change("container.publish", *args);
        if (!done) return done;
        return json::object();
    }

    Answer revoke_external(const json& body) {
        auto name = dpdock_name(body, "EndpointID");
        if (!name) return name.status();
        auto container = find_container(*name);
        if (!container) return container.status();
        if (container->is_null()) return json::object();
        auto done = change("container.publish", {{"name", *name}, {"publish", json::array()}, {"expose", json::array()}});
        if (!done) return done;
        return json::object();
    }

private:
    Answer request(const std::string& cmd, const json& args = json::object()) {
        if (!client_) {
            auto c = cli::Client::connect(socket_, kControlTimeout);
            if (!c) return Answer::error(c.message());
            client_.emplace(std::move(*c));
        }
        return client_->request(cmd, args);
    }

    // A request that changes dpdockd's model; with save_, the model is then
    // written to dpdockd's --config file, so that a restarted dpdockd has it.
    // A failed save does not fail the change: it is made, and an error would
    // make Docker forget a network or endpoint that dpdockd has (Docker never
    // deletes what it thinks failed). Only a restarted dpdockd would miss it:
    // the plugin's log says so.
    Answer change(const std::string& cmd, const json& args) {
        auto done = request(cmd, args);
        if (!done || !save_) return done;
        if (auto saved = request("config.save"); !saved) {
            std::fprintf(stderr,
                         "dpdock-docker-plugin: %s done, but dpdockd could not save its state (%s): a restarted "
                         "dpdockd will not have this change\n",
                         cmd.c_str(), saved.message().c_str());
        }
        return done;
    }

    // The dpdock container of that name (container.ps's element), or null.
    Answer find_container(const std::string& name) {
        auto ps = request("container.ps");
        if (!ps) return ps;
        for (const auto& c : *ps) {
            if (!c.is_object() || c.value("name", "") != name) continue;
            if (const auto networks = c.find("networks"); networks != c.end() && !networks->empty()) return c;
        }
        return json();
    }

    Result<bool> network_internal(const std::string& network) {
        auto networks = request("network.ls");
        if (!networks) return networks.status();
        for (const auto& n : *networks) {
            if (n.value("name", "") == network) return n.value("internal", false);
        }
        return Result<bool>::error("network " + network + " not found");
    }

    const std::string& socket_;
    const std::string& netns_;
    const bool save_;
    std::optional<cli::Client> client_;  // one connection per Docker request
};

}  // namespace

Driver::Driver(std::string control_socket, std::string netns, bool save)
    : socket_(std::move(control_socket)), netns_(std::move(netns)), save_(save) {}

std::optional<json> Driver::handle(const std::string& method, const json& body) {
    if (method == "Plugin.Activate") return json{{"Implements", json::array({"NetworkDriver"})}};
    if (method == "NetworkDriver.GetCapabilities") return json{{"Scope", "local"}, {"ConnectivityScope", "local"}};
    // Node discovery is for global-scope drivers; Leave has nothing to undo:
    // Docker moves the interface back out of the sandbox itself.
    if (method == "NetworkDriver.DiscoverNew" || method == "NetworkDriver.DiscoverDelete" ||
        method == "NetworkDriver.Leave") {
        return json::object();
    }
    using Call = Answer (Calls::*)(const json&);
    static const std::map<std::string, Call> kCalls = {
        {"NetworkDriver.CreateNetwork", &Calls::create_network},
        {"NetworkDriver.DeleteNetwork", &Calls::delete_network},
        {"NetworkDriver.CreateEndpoint", &Calls::create_endpoint},
        {"NetworkDriver.DeleteEndpoint", &Calls::delete_endpoint},
        {"NetworkDriver.Join", &Calls::join},
        {"NetworkDriver.EndpointOperInfo", &Calls::oper_info},
        {"NetworkDriver.ProgramExternalConnectivity", &Calls::program_external},
        {"NetworkDriver.RevokeExternalConnectivity", &Calls::revoke_external},
    };
    auto it = kCalls.find(method);
    if (it == kCalls.end()) return std::nullopt;
    if (!body.is_object()) return json{{"Err", "the request body must be a JSON object"}};
    try {
        Calls calls(socket_, netns_, save_);
        Answer answer = (calls.*(it->second))(body);
        if (!answer) return json{{"Err", answer.message()}};
        return *answer;
    } catch (const std::exception& e) {
        // A field of an unexpected type in Docker's request or dpdockd's answer.
        return json{{"Err", std::string("malformed request or answer: ") + e.what()}};
    }
}

}  // namespace dpdock::docker
