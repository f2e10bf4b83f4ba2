#include "runtime/docker/translate.hpp"

#include <algorithm>
#include <cctype>

namespace dpdock::docker {
namespace {

using nlohmann::json;

constexpr const char* kGeneric = "com.docker.network.generic";
constexpr const char* kEnableIpv6 = "com.docker.network.enable_ipv6";
constexpr const char* kInternal = "com.docker.network.internal";
constexpr const char* kMtu = "com.docker.network.driver.mtu";
constexpr const char* kPortMap = "com.docker.network.portmap";
constexpr const char* kExposed = "com.docker.network.endpoint.exposedports";
// dpdock's own -o options: which kind of dpdock network, and an overlay's VNI.
constexpr const char* kOptDriver = "dpdock.driver";
constexpr const char* kOptVni = "dpdock.vni";

bool flag(const json& options, const char* key) {
    return options.contains(key) && options[key].is_boolean() && options[key].get<bool>();
}

// "10.50.0.1/24" or "10.50.0.1" -> "10.50.0.1".
std::string without_prefix(const std::string& s) { return s.substr(0, s.find('/')); }

Result<int> small_int(const std::string& key, const std::string& text) {
    const bool digits = !text.empty() && text.size() <= 9 &&
                        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits) return Result<int>::error("option " + key + ": expected an integer, got '" + text + "'");
    return std::stoi(text);
}

// The -o options: dpdock's own keys become arguments, the rest go to
// dpdockd, which refuses a name it does not know (docs/control-protocol.md).
Status driver_options(const json& generic, json& args) {
    if (generic.is_null()) return {};
    if (!generic.is_object()) return Status::error("options: expected an object of strings");
    for (const auto& [key, value] : generic.items()) {
        if (!value.is_string()) return Status::error("option " + key + ": expected a string value");
        const std::string v = value.get<std::string>();
        if (key == kOptDriver) {
            if (v != "bridge" && v != "overlay") {
                return Status::error("option " + key + ": '" + v + "' is not bridge or overlay");
            }
            args["driver"] = v;
        } else if (key == kOptVni) {
            auto vni = small_int(key, v);
            if (!vni) return vni.status();
            args["vni"] = *vni;
        } else {
            if (key == kMtu) {
                auto mtu = small_int(key, v);
                if (!mtu) return mtu.status();
                args["mtu"] = *mtu;
            }
            args["options"][key] = v;
        }
    }
    return {};
}

Status ipam(const json& request, json& args) {
    if (request.contains("IPv6Data") && request["IPv6Data"].is_array() && !request["IPv6Data"].empty()) {
        return Status::error("IPv6 (--ipv6, an IPv6 --subnet) is not supported by dpdock");
    }
    const json& v4 = request.contains("IPv4Data") ? request["IPv4Data"] : json();
    if (!v4.is_array() || v4.size() != 1 || !v4[0].is_object()) {
        return Status::error("IPv4Data: dpdock networks have exactly one IPv4 subnet");
    }
    const json& data = v4[0];
    if (!data.contains("Pool") || !data["Pool"].is_string()) return Status::error("IPv4Data: no Pool");
    args["subnet"] = data["Pool"];
    if (data.contains("Gateway") && data["Gateway"].is_string() && !data["Gateway"].get<std::string>().empty()) {
        args["gateway"] = without_prefix(data["Gateway"].get<std::string>());
    }
    if (data.contains("AuxAddresses") && data["AuxAddresses"].is_object() && !data["AuxAddresses"].empty()) {
        return Status::error("--aux-address is not supported by dpdock");
    }
    return {};
}

Result<std::string> proto_name(const json& binding) {
    const int proto = binding.value("Proto", -1);
    if (proto == 6) return std::string("tcp");
    if (proto == 17) return std::string("udp");
    return Result<std::string>::error("port protocol " + std::string(proto == 132 ? "sctp" : std::to_string(proto)) +
                                      " is not supported by dpdock (tcp, udp)");
}

// One PortBinding {Proto, Port, HostIP, HostPort, HostPortEnd} as `-p` text.
Result<std::string> publish_string(const json& b) {
    using R = Result<std::string>;
    if (!b.is_object()) return R::error("com.docker.network.portmap: expected objects");
    auto proto = proto_name(b);
    if (!proto) return proto;
    const int port = b.value("Port", 0);
    const int host = b.value("HostPort", 0);
    const int host_end = b.value("HostPortEnd", 0);
    const std::string ip = b.value("HostIP", "");
    if (port < 1 || port > 65535 || host < 0 || host > 65535 || host_end < 0 || host_end > 65535) {
        return R::error("com.docker.network.portmap: port out of range in " + b.dump());
    }
    if (ip.find(':') != std::string::npos) return R::error("IPv6 host address " + ip + " is not supported by dpdock");
    std::string hosts;
    if (host != 0) hosts = std::to_string(host) + (host_end > host ? "-" + std::to_string(host_end) : "");
    std::string out = ip.empty() || ip == "0.0.0.0" ? (hosts.empty() ? "" : hosts + ":") : ip + ":" + hosts + ":";
    return out + std::to_string(port) + "/" + *proto;
}

}  // namespace

Result<std::string> dpdock_name(const json& request, const char* id_key) {
    using R = Result<std::string>;
    if (!request.is_object() || !request.contains(id_key) || !request[id_key].is_string()) {
        return R::error(std::string("missing ") + id_key);
    }
    const std::string id = request[id_key].get<std::string>();
    const bool valid = !id.empty() && id.size() <= 64 &&
                       std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
    if (!valid) return R::error(std::string(id_key) + " '" + id + "' is not a Docker id");
    return "docker-" + id.substr(0, 12);
}

Result<json> network_create_args(const json& request) {
    auto name = dpdock_name(request, "NetworkID");
    if (!name) return name.status();
    json args = {{"name", *name}, {"labels", {{"com.docker.network.id", request["NetworkID"]}}}};
    const json options = request.contains("Options") && request["Options"].is_object() ? request["Options"] : json::object();
    if (flag(options, kEnableIpv6)) return Status::error("IPv6 (--ipv6) is not supported by dpdock");
    if (flag(options, kInternal)) args["internal"] = true;
    if (options.contains(kGeneric)) {
        if (auto st = driver_options(options[kGeneric], args); !st) return st;
    }
    if (auto st = ipam(request, args); !st) return st;
    return args;
}

Result<json> publish_args(const std::string& container, const json& options) {
    json publish = json::array();
    json expose = json::array();
    if (options.is_object() && options.contains(kPortMap) && options[kPortMap].is_array()) {
        for (const auto& b : options[kPortMap]) {
            auto p = publish_string(b);
            if (!p) return p.status();
            publish.push_back(*p);
        }
    }
    if (options.is_object() && options.contains(kExposed) && options[kExposed].is_array()) {
        for (const auto& e : options[kExposed]) {
            if (!e.is_object()) return Status::error("com.docker.network.endpoint.exposedports: expected objects");
            auto proto = proto_name(e);
            if (!proto) return proto.status();
            expose.push_back(std::to_string(e.value("Port", 0)) + "/" + *proto);
        }
    }
    return json{{"name", container}, {"publish", publish}, {"expose", expose}};
}

json port_bindings(const json& container_ports) {
    json out = json::array();
    for (const auto& p : container_ports) {
        const std::string cport = p.value("container_port", "");
        const auto slash = cport.find('/');
        const int port = std::stoi(cport.substr(0, slash));
        const int host = p.value("host_port", 0);
        out.push_back({{"Proto", cport.substr(slash + 1) == "udp" ? 17 : 6},
                       {"IP", ""},
                       {"Port", port},
                       {"HostIP", p.value("host_ip", "")},
                       {"HostPort", host},
                       {"HostPortEnd", host}});
    }
    return out;
}

}  // namespace dpdock::docker
