// dpdockd: the dpdock daemon. Options are parsed here and nothing else;
// control/daemon.cpp runs it. EAL options may follow "--".
#include <boost/program_options.hpp>

#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include "control/daemon.hpp"

namespace po = boost::program_options;

namespace {

// A group name from /etc/group, or a plain group number.
std::optional<gid_t> group_id(const std::string& name) {
    if (const ::group* entry = getgrnam(name.c_str()); entry != nullptr) return entry->gr_gid;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos && name.size() < 10) {
        return static_cast<gid_t>(std::stoul(name));
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> eal_args;
    int own_argc = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--") {
            own_argc = i;
            eal_args.assign(argv + i + 1, argv + argc);
            break;
        }
    }
    po::options_description desc("Usage: dpdockd [options] [-- EAL options]\nOptions");
    desc.add_options()("help,h", "show this help")("version", "print the version")(
        "config,c", po::value<std::string>(),
        "deployment YAML file (default: start empty, with the default bridge only, like dockerd)")(
        "demo", "without --config: run the embedded demo deployment (two containers in the network namespaces "
                "dpdock-demo1 and dpdock-demo2, which must exist)")(
        "socket,s", po::value<std::string>(), "control socket path (overrides dataplane.socket)")(
        "group,G", po::value<std::string>(),
        "group that owns the control socket and may use it (name or number), like dockerd's --group")(
        "client-idle-timeout-ms", po::value<unsigned>()->default_value(30000),
        "drop a control client that sends and reads nothing for this long")(
        "allow-driver", po::value<std::vector<std::string>>()->composing()->value_name("NAME"),
        "a DPDK driver (e.g. net_af_packet) whose devargs --group members may give; repeatable; root may use any")(
        "save-dir", po::value<std::string>()->value_name("DIR"),
        "the directory where --group members may config save and reload (absolute); root may use any path")(
        "etcd", po::value<std::vector<std::string>>()->composing()->value_name("URL"),
        "an etcd member (http://HOST:PORT) of the cluster store for global overlay networks; repeatable")(
        "host-name", po::value<std::string>()->value_name("NAME"),
        "this host's name in the cluster (default: the system's host name)")(
        "cluster-lease-ttl", po::value<unsigned>()->default_value(5)->value_name("S"),
        "seconds after which the other hosts forget this one when it stops refreshing its lease");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(own_argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "dpdockd: %s\n", e.what());
        return 2;
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "dpdockd " << DPDOCK_VERSION << "\n";
        return 0;
    }
    dpdock::control::DaemonOptions options;
    if (vm.count("config")) options.config_path = vm["config"].as<std::string>();
    if (vm.count("demo")) {
        if (vm.count("config")) {
            std::fprintf(stderr, "dpdockd: --demo and --config exclude each other\n");
            return 2;
        }
        options.demo = true;
    }
    if (vm.count("socket")) options.socket_path = vm["socket"].as<std::string>();
    if (vm.count("group")) {
        const std::string& group = vm["group"].as<std::string>();
        auto gid = group_id(group);
        if (!gid) {
            std::fprintf(stderr, "dpdockd: --group: no group named \"%s\"\n", group.c_str());
            return 2;
        }
        options.socket_group = *gid;
    }
    options.eal_args = std::move(eal_args);
    const unsigned idle_ms = vm["client-idle-timeout-ms"].as<unsigned>();
    if (idle_ms == 0) {
        std::fprintf(stderr, "dpdockd: --client-idle-timeout-ms must be at least 1\n");
        return 2;
    }
    options.client_idle_timeout = std::chrono::milliseconds(idle_ms);
    if (vm.count("allow-driver")) options.policy.devargs_drivers = vm["allow-driver"].as<std::vector<std::string>>();
    if (vm.count("save-dir")) {
        const std::string& dir = vm["save-dir"].as<std::string>();
        if (dir.empty() || dir.front() != '/') {
            std::fprintf(stderr, "dpdockd: --save-dir must be an absolute path\n");
            return 2;
        }
        options.policy.save_dir = dir;
    }
    if (vm.count("etcd")) {
        options.etcd = vm["etcd"].as<std::vector<std::string>>();
        char name[256] = {};
        gethostname(name, sizeof name - 1);
        options.host_name = vm.count("host-name") ? vm["host-name"].as<std::string>() : std::string(name);
        const unsigned ttl = vm["cluster-lease-ttl"].as<unsigned>();
        if (ttl < 2 || options.host_name.empty() || options.host_name.find('/') != std::string::npos) {
            std::fprintf(stderr, "dpdockd: --cluster-lease-ttl must be at least 2 and --host-name a name without '/'\n");
            return 2;
        }
        options.cluster_lease_ttl_s = ttl;
    }
    return dpdock::control::run_daemon(options);
}
