#include "control/cli/docker_container.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <cstdlib>
#include <memory>
#include <regex>

#include <nlohmann/json.hpp>

namespace dpdock::cli {

namespace {

using nlohmann::json;

constexpr std::string_view kUnixScheme = "unix://";
constexpr std::string_view kTcpScheme = "tcp://";

// Docker's own rule for names ([a-zA-Z0-9][a-zA-Z0-9_.-]*), which IDs and ID
// prefixes (hex) also pass; anything else would change the request's path.
bool valid_reference(const std::string& text) {
    static const std::regex kName("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    return std::regex_match(text, kName);
}

Result<std::unique_ptr<httplib::Client>> client_for(const std::string& docker_host) {
    std::unique_ptr<httplib::Client> client;
    if (docker_host.starts_with(kUnixScheme) && docker_host.size() > kUnixScheme.size()) {
        client = std::make_unique<httplib::Client>(docker_host.substr(kUnixScheme.size()));
        client->set_address_family(AF_UNIX);
        // httplib would send the socket's path as the Host, which dockerd (Go's
        // server) refuses as malformed; the docker CLI sends a name too.
        client->set_default_headers({{"Host", "docker"}});
    } else if (docker_host.starts_with(kTcpScheme) && docker_host.size() > kTcpScheme.size()) {
        client = std::make_unique<httplib::Client>("http://" + docker_host.substr(kTcpScheme.size()));
    } else {
        return Result<std::unique_ptr<httplib::Client>>::error(
            "Docker host \"" + docker_host + "\": give unix:///PATH or tcp://HOST:PORT");
    }
    return client;
}

// The daemon's {"message": ...} when it sent one, else the body as it is.
std::string docker_message(const std::string& body) {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
        return parsed["message"].get<std::string>();
    }
    return body;
}

}  // namespace

std::string default_docker_host() {
    const char* env = std::getenv(std::string(kDockerHostEnv).c_str());
    return env && *env ? env : std::string(kDefaultDockerHost);
}

Result<DockerContainer> inspect_docker_container(const std::string& docker_host, const std::string& name_or_id,
                                                 std::chrono::milliseconds timeout) {
    using R = Result<DockerContainer>;
    if (!valid_reference(name_or_id)) {
        return R::error("\"" + name_or_id + "\" is not a Docker container name or ID");
    }
    auto client = client_for(docker_host);
    if (!client) return client.status();
    (*client)->set_connection_timeout(timeout);
    (*client)->set_read_timeout(timeout);
    (*client)->set_write_timeout(timeout);

    // Unversioned: dockerd answers it with its own API version.
    auto res = (*client)->Get("/containers/" + name_or_id + "/json");
    if (!res) {
        return R::error("cannot reach Docker at " + docker_host + " (" + httplib::to_string(res.error()) +
                        "): is dockerd running? (--docker-host or DOCKER_HOST name another daemon)");
    }
    if (res->status == 404) return R::error(docker_message(res->body));  // "No such container: NAME", as docker says
    if (res->status != 200) {
        return R::error("Docker at " + docker_host + " answered " + std::to_string(res->status) + ": " +
                        docker_message(res->body));
    }
    auto inspect = json::parse(res->body, nullptr, false);
    if (!inspect.is_object()) return R::error("Docker at " + docker_host + " answered something that is not JSON");

    DockerContainer container;
    container.id = inspect.value("Id", "");
    container.name = inspect.value("Name", "");
    if (container.name.starts_with('/')) container.name.erase(0, 1);
    if (container.name.empty()) container.name = name_or_id;
    const json state = inspect.value("State", json::object());
    const json host_config = inspect.value("HostConfig", json::object());
    const bool running = state.is_object() && state.value("Running", false);
    container.pid = state.is_object() && state.contains("Pid") && state["Pid"].is_number_integer()
                        ? state["Pid"].get<int>()
                        : 0;
    if (!running || container.pid <= 0) {
        return R::error("container " + container.name +
                        " is not running: its network namespace exists only while it runs (docker start " +
                        container.name + ")");
    }
    if (host_config.is_object() && host_config.value("NetworkMode", "") == "host") {
        return R::error("container " + container.name +
                        " shares the host's network namespace (--network host): attaching it would put dpdock's "
                        "interface on the host; run the container with --network none");
    }
    container.netns_path = "/proc/" + std::to_string(container.pid) + "/ns/net";
    return container;
}

}  // namespace dpdock::cli
