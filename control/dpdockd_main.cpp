// dpdockd: the dpdock daemon. Options are parsed here and nothing else;
// control/daemon.cpp runs it. EAL options may follow "--".
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "control/daemon.hpp"

namespace po = boost::program_options;

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
        "config,c", po::value<std::string>(), "deployment YAML file (default: the embedded demo deployment)")(
        "socket,s", po::value<std::string>(), "control socket path (overrides dataplane.socket)");
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
    if (vm.count("socket")) options.socket_path = vm["socket"].as<std::string>();
    options.eal_args = std::move(eal_args);
    return dpdock::control::run_daemon(options);
}
