// `dpdock attach --container NAME|ID`: a Docker container's network namespace,
// asked of the Docker Engine API (GET /containers/NAME/json over the Unix
// socket, or tcp://, as the docker CLI does; cpp-httplib) and handed to the
// daemon as /proc/PID/ns/net of the container's first process. The CLI asks,
// not the daemon: the daemon's control thread is one epoll loop that a slow
// or hung dockerd must not stall, the control protocol stays "a namespace
// path" for every client (CLI, CNI, YAML), and access to docker.sock stays
// the user's own. Single-threaded, like the whole CLI.
#pragma once

#include <chrono>
#include <string>

#include "base/util/status.hpp"

namespace dpdock::cli {

inline constexpr std::string_view kDockerHostEnv = "DOCKER_HOST";
inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

struct DockerContainer {
    std::string id;
    std::string name;        // without Docker's leading '/'
    int pid = 0;             // State.Pid: its namespaces are /proc/PID/ns/*
    std::string netns_path;  // /proc/PID/ns/net
};

// $DOCKER_HOST, else unix:///var/run/docker.sock.
std::string default_docker_host();

// The running container `name_or_id` (a name, an ID or an ID prefix, as
// `docker inspect` takes) at `docker_host` (unix:///PATH or tcp://HOST:PORT).
// Errors are worded for the user: no such container, not running, sharing the
// host's namespace (--network host), Docker unreachable.
Result<DockerContainer> inspect_docker_container(const std::string& docker_host, const std::string& name_or_id,
                                                 std::chrono::milliseconds timeout);

}  // namespace dpdock::cli
