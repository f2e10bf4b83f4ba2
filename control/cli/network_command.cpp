// dpdock network create|ls|inspect|rm|connect|disconnect: `docker network`'s
// verbs and flags, sent as the daemon's network.* commands.
#include <iostream>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {
namespace {

using nlohmann::json;

// Docker's --opt KEY=VALUE and --label KEY[=VALUE], repeated. A label
// without '=' has an empty value, as in Docker.
Result<json> parse_pairs(const char* flag, const std::vector<std::string>& pairs, bool value_required) {
    json out = json::object();
    for (const auto& pair : pairs) {
        const auto eq = pair.find('=');
        if (eq == 0 || (eq == std::string::npos && value_required)) {
            return Result<json>::error(std::string(flag) + " \"" + pair + "\" is not KEY=VALUE");
        }
        out[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    }
    return out;
}

void print_nothing(const json&) {}

// NETWORK and CONTAINER operands as the request arguments of connect/disconnect.
Result<json> network_and_container(const po::variables_map& values) {
    const auto names = operands(values);
    if (names.size() != 2) return Result<json>::error("need NETWORK and CONTAINER");
    return json{{"network", names[0]}, {"container", names[1]}};
}

}  // namespace

int run_network_create(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options("Options");
    options.add_options()
        ("driver,d", po::value<std::string>()->value_name("DRIVER"), "network driver (bridge or overlay)")
        ("vni", po::value<std::int64_t>()->value_name("N"), "overlay: VXLAN network identifier (default: next free)")
        ("arp-suppression", "overlay: answer ARP for known addresses instead of flooding it")
        ("scope", po::value<std::string>()->value_name("SCOPE"),
         "local (default) or global: an overlay network shared by every host of the cluster (dpdockd --etcd)")
        ("subnet", po::value<std::string>()->value_name("CIDR"), "subnet (default: next free /16 from 172.17.0.0/16 up)")
        ("gateway", po::value<std::string>()->value_name("IP"), "gateway (default: the subnet's first address)")
        ("ip-range", po::value<std::string>()->value_name("CIDR"), "allocate container IPs from this sub-range")
        ("internal", "no route out of the network")
        ("opt,o", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
         "Docker bridge option, e.g. com.docker.network.driver.mtu=1400")
        ("label", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
         "metadata on the network, shown by inspect and kept by config save");
    auto parsed = parse_args_with_operands(ctx, args, options, 1);
    if (!parsed.values) return parsed.exit_code;
    const po::variables_map& v = *parsed.values;
    if (operands(v).empty()) return usage_error(ctx, "missing NAME");

    json request = {{"name", operands(v).front()}};
    for (const char* key : {"driver", "subnet", "gateway", "scope"}) {
        if (v.count(key)) request[key] = v[key].as<std::string>();
    }
    if (v.count("ip-range")) request["ip_range"] = v["ip-range"].as<std::string>();
    if (v.count("internal")) request["internal"] = true;
    if (v.count("vni")) request["vni"] = v["vni"].as<std::int64_t>();
    if (v.count("arp-suppression")) request["arp_suppression"] = true;
    if (v.count("opt")) {
        auto opts = parse_pairs("--opt", v["opt"].as<std::vector<std::string>>(), true);
        if (!opts) return usage_error(ctx, opts.message());
        request["options"] = *opts;
    }
    if (v.count("label")) {
        auto labels = parse_pairs("--label", v["label"].as<std::vector<std::string>>(), false);
        if (!labels) return usage_error(ctx, labels.message());
        request["labels"] = *labels;
    }
    return print_result(ctx, ctx.call("network.create", request), print_name);
}

int run_network_ls(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args(ctx, args, po::options_description());
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("network.ls"), [](const json& networks) {
        // Docker's four columns first, then what a dataplane user wants at a glance.
        TablePrinter table({"network id", "name", "driver", "scope", "subnet", "gateway", "internal", "containers"});
        for (const auto& n : networks) {
            table.add_row({cell(n["id"]), cell(n["name"]), cell(n["driver"]), cell(n["scope"]), cell(n["subnet"]),
                           cell(n["gateway"]), cell(n["internal"]), cell(n["containers"])});
        }
        table.print(std::cout);
    });
}

int run_network_inspect(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), -1);
    if (!parsed.values) return parsed.exit_code;
    if (operands(*parsed.values).empty()) return usage_error(ctx, "missing NAME");
    // Like `docker network inspect`: JSON is the format for people too.
    return print_result(ctx, ctx.call("network.inspect", {{"names", operands(*parsed.values)}}),
                        [](const json& networks) { print_json(std::cout, networks); });
}

int run_network_rm(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), -1);
    if (!parsed.values) return parsed.exit_code;
    if (operands(*parsed.values).empty()) return usage_error(ctx, "missing NAME");
    return print_result(ctx, ctx.call("network.rm", {{"names", operands(*parsed.values)}}), [](const json& names) {
        for (const auto& name : names) std::cout << cell(name) << "\n";
    });
}

int run_network_connect(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options("Options");
    options.add_options()
        ("ip", po::value<std::string>()->value_name("IP"), "IPv4 address (default: the next free one)")
        ("mac", po::value<std::string>()->value_name("MAC"), "MAC address (default: 02:42 and the IP)")
        ("alias", po::value<std::vector<std::string>>()->composing()->value_name("NAME"),
         "another DNS name of the container on this network (repeatable)");
    auto parsed = parse_args_with_operands(ctx, args, options, 2);
    if (!parsed.values) return parsed.exit_code;
    const po::variables_map& v = *parsed.values;
    auto request = network_and_container(v);
    if (!request) return usage_error(ctx, request.message());
    if (v.count("ip")) (*request)["ip"] = v["ip"].as<std::string>();
    if (v.count("mac")) (*request)["mac"] = v["mac"].as<std::string>();
    if (v.count("alias")) (*request)["aliases"] = v["alias"].as<std::vector<std::string>>();
    return print_result(ctx, ctx.call("network.connect", *request), print_nothing);
}

int run_network_disconnect(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args_with_operands(ctx, args, po::options_description(), 2);
    if (!parsed.values) return parsed.exit_code;
    auto request = network_and_container(*parsed.values);
    if (!request) return usage_error(ctx, request.message());
    return print_result(ctx, ctx.call("network.disconnect", *request), print_nothing);
}

}  // namespace dpdock::cli
