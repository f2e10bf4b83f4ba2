#include "runtime/cni/cni_request.hpp"

#include <algorithm>

namespace dpdock::cni {
namespace {

using nlohmann::json;
using Parsed = std::variant<CniRequest, CniError>;

CniError invalid_config(std::string msg) { return {CniCode::kInvalidConfig, std::move(msg), {}}; }

// An optional string key of the netconf; `out` keeps its default when absent.
bool string_key(const json& conf, const char* key, std::string& out, CniError& error) {
    if (!conf.contains(key)) return true;
    if (!conf[key].is_string()) {
        error = invalid_config(std::string("network configuration: \"") + key + "\" must be a string");
        return false;
    }
    out = conf[key].get<std::string>();
    return true;
}

// One portMappings entry ({"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":""})
// as dpdock's `docker run -p` form, or an error naming the entry.
bool publish_string(const json& m, std::size_t i, std::string& out, CniError& error) {
    const std::string where = "runtimeConfig.portMappings[" + std::to_string(i) + "]";
    auto port = [&](const char* key) -> int {
        if (!m.contains(key) || !m[key].is_number_integer()) return -1;
        const int v = m[key].get<int>();
        return v >= 1 && v <= 65535 ? v : -1;
    };
    if (!m.is_object() || port("containerPort") < 0 || port("hostPort") < 0) {
        error = invalid_config(where + ": needs hostPort and containerPort, integers 1-65535");
        return false;
    }
    std::string proto = "tcp";
    std::string host_ip;
    if (!string_key(m, "protocol", proto, error) || !string_key(m, "hostIP", host_ip, error)) return false;
    std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::tolower(c); });
    if (proto != "tcp" && proto != "udp") {
        error = invalid_config(where + ": protocol \"" + proto + "\" is not supported by dpdock (tcp, udp)");
        return false;
    }
    out = (host_ip.empty() ? "" : host_ip + ":") + std::to_string(port("hostPort")) + ":" +
          std::to_string(port("containerPort")) + "/" + proto;
    return true;
}

}  // namespace

Parsed parse_cni_request(const std::function<const char*(const char*)>& getenv, std::string_view netconf_text) {
    auto env = [&](const char* key) -> std::string {
        const char* v = getenv(key);
        return v ? v : "";
    };
    CniRequest r;
    const std::string command = env("CNI_COMMAND");
    if (command == "ADD") r.command = CniCommand::kAdd;
    else if (command == "DEL") r.command = CniCommand::kDel;
    else if (command == "CHECK") r.command = CniCommand::kCheck;
    else if (command == "VERSION") r.command = CniCommand::kVersion;
    else return CniError{CniCode::kInvalidEnvironment, "CNI_COMMAND \"" + command + "\" is not ADD, DEL, CHECK or VERSION", {}};

    const json conf = json::parse(netconf_text, nullptr, false);
    if (conf.is_discarded() || !conf.is_object()) {
        return CniError{CniCode::kDecodeFailure, "the network configuration on stdin is not a JSON object", {}};
    }
    std::string version;
    CniError error{};
    if (!string_key(conf, "cniVersion", version, error)) return error;
    if (r.command == CniCommand::kVersion) return r;
    if (version != kCniVersion) {
        return CniError{CniCode::kIncompatibleVersion,
                        "cniVersion \"" + version + "\" is not supported (dpdock-cni speaks " + kCniVersion + ")", {}};
    }

    r.container = env("CNI_CONTAINERID");
    r.netns = env("CNI_NETNS");
    r.ifname = env("CNI_IFNAME");
    if (r.container.empty()) return CniError{CniCode::kInvalidEnvironment, "CNI_CONTAINERID is not set", {}};
    if (r.ifname.empty()) return CniError{CniCode::kInvalidEnvironment, "CNI_IFNAME is not set", {}};
    if (r.netns.empty() && r.command != CniCommand::kDel) {
        return CniError{CniCode::kInvalidEnvironment, "CNI_NETNS is not set", {}};
    }
    // dpdockd takes /run/netns/NAME; runtimes often name the same file through /var/run.
    if (r.netns.rfind("/var/run/", 0) == 0) r.netns.erase(0, 4);
    // Container ids are often 64 hex digits; dpdock's names stop at 63 characters.
    if (r.container.size() > 63) r.container.resize(63);

    std::string name;
    if (!string_key(conf, "name", name, error)) return error;
    r.network = name;
    r.socket = kDefaultSocket;
    if (!string_key(conf, "network", r.network, error) || !string_key(conf, "socket", r.socket, error)) return error;
    if (r.network.empty()) return invalid_config("network configuration: needs \"name\" or \"network\"");
    if (conf.contains("dns")) {
        if (!conf["dns"].is_object()) return invalid_config("network configuration: \"dns\" must be an object");
        r.dns = conf["dns"];
    }
    if (conf.contains("runtimeConfig")) {
        const json& rc = conf["runtimeConfig"];
        if (!rc.is_object()) return invalid_config("network configuration: \"runtimeConfig\" must be an object");
        if (rc.contains("portMappings")) {
            if (!rc["portMappings"].is_array()) return invalid_config("runtimeConfig.portMappings must be an array");
            for (std::size_t i = 0; i < rc["portMappings"].size(); ++i) {
                std::string p;
                if (!publish_string(rc["portMappings"][i], i, p, error)) return error;
                r.publish.push_back(std::move(p));
            }
        }
    }
    return r;
}

}  // namespace dpdock::cni
