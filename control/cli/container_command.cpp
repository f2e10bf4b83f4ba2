// dpdock attach|detach|ps: containers (network namespaces) joining and
// leaving dpdock's networks, sent as the daemon's container.* commands.
// `attach --container` resolves a Docker container's namespace first
// (docker_container.hpp).
#include <iostream>

#include "control/cli/docker_container.hpp"
#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {

using nlohmann::json;

int run_attach(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options("Options");
    options.add_options()
        ("name", po::value<std::string>()->value_name("NAME"),
         "the container's name (required with --netns; default with --container: Docker's name)")
        ("netns", po::value<std::string>()->value_name("PATH"),
         "its network namespace: /run/netns/NAME or /proc/PID/ns/net")
        ("container", po::value<std::string>()->value_name("NAME|ID"),
         "a running Docker container instead of --netns: its namespace, asked of Docker")
        ("docker-host", po::value<std::string>()->value_name("URL"),
         "the Docker daemon for --container: unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, else "
         "unix:///var/run/docker.sock)")
        ("network", po::value<std::string>()->value_name("NET"), "network to join (default: bridge)")
        ("ip", po::value<std::string>()->value_name("IP"), "IPv4 address (default: the next free one)")
        ("mac", po::value<std::string>()->value_name("MAC"), "MAC address (default: 02:42 and the IP)")
        ("alias", po::value<std::vector<std::string>>()->composing()->value_name("NAME"),
         "another DNS name of the container on its network (repeatable)")
        ("method", po::value<std::string>()->value_name("veth|tap"), "attachment (default: veth)")
        ("publish,p", po::value<std::vector<std::string>>()->composing()->value_name("SPEC"),
         "publish a port, as docker run -p")
        ("expose", po::value<std::vector<std::string>>()->composing()->value_name("PORT[/PROTO]"),
         "expose a port, published by -P")
        ("publish-all,P", "publish every exposed port to a dynamic host port");
    auto parsed = parse_args(ctx, args, options);
    if (!parsed.values) return parsed.exit_code;
    const po::variables_map& v = *parsed.values;
    if (v.count("netns") == v.count("container")) return usage_error(ctx, "give one of --netns and --container");
    if (v.count("docker-host") && !v.count("container")) return usage_error(ctx, "--docker-host needs --container");
    if (!v.count("name") && !v.count("container")) return usage_error(ctx, "--name is required");

    json request = json::object();
    for (const char* key : {"name", "netns", "network", "ip", "mac", "method"}) {
        if (v.count(key)) request[key] = v[key].as<std::string>();
    }
    if (v.count("container")) {
        const std::string host = v.count("docker-host") ? v["docker-host"].as<std::string>() : default_docker_host();
        auto container = inspect_docker_container(host, v["container"].as<std::string>(), ctx.timeout);
        if (!container) return report_error(container.status());
        request["netns"] = container->netns_path;
        if (!v.count("name")) request["name"] = container->name;
    }
    if (v.count("alias")) request["aliases"] = v["alias"].as<std::vector<std::string>>();
    if (v.count("publish")) request["publish"] = v["publish"].as<std::vector<std::string>>();
    if (v.count("expose")) request["expose"] = v["expose"].as<std::vector<std::string>>();
    if (v.count("publish-all")) request["publish_all"] = true;
    return print_result(ctx, ctx.call("container.attach", request), print_name);
}

int run_detach(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 1);
    if (!parsed.values) return parsed.exit_code;
    if (operands(*parsed.values).empty()) return usage_error(ctx, "missing NAME");
    return print_result(ctx, ctx.call("container.detach", {{"name", operands(*parsed.values).front()}}), print_name);
}

int run_ps(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args(ctx, args, po::options_description());
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("container.ps"), [](const json& containers) {
        // One row per endpoint: a container on two networks has two interfaces.
        TablePrinter table({"name", "network", "interface", "ip", "mac", "method", "host interface"});
        for (const auto& c : containers) {
            for (const auto& e : c["networks"]) {
                table.add_row({cell(c["name"]), cell(e["network"]), cell(e["interface"]), cell(e["ip"]),
                               cell(e["mac"]), cell(c["method"]), cell(e["host_interface"])});
            }
        }
        table.print(std::cout);
    });
}

}  // namespace dpdock::cli
