// dpdock-docker-plugin: Docker's remote network driver for dpdock. Serves
// libnetwork's plugin protocol on /run/docker/plugins/NAME.sock (so that
// `docker network create -d NAME` finds it) and turns each call into requests
// on dpdockd's control socket. Must run in dockerd's network namespace: the
// containers' interfaces are made there for Docker to move (docs/docker.md).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "runtime/docker/driver.hpp"
#include "runtime/docker/plugin_server.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    const char* env_socket = std::getenv("DPDOCK_SOCKET");
    po::options_description desc("Usage: dpdock-docker-plugin [options]");
    desc.add_options()("help,h", "show this help")(
        "name", po::value<std::string>()->default_value("dpdock"), "the driver's name (docker network create -d NAME)")(
        "plugin-dir", po::value<std::string>()->default_value("/run/docker/plugins"), "where dockerd looks for plugin sockets")(
        "socket", po::value<std::string>()->default_value(env_socket ? env_socket : "/run/dpdock/dpdock.sock"),
        "dpdockd's control socket ($DPDOCK_SOCKET)")("save", "after every change, dpdockd writes its --config file (config.save): a restarted dpdockd brings Docker's endpoints back")(
        "debug", "log every call and its answer on stderr");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "dpdock-docker-plugin: " << e.what() << "\n" << desc;
        return 2;
    }
    if (vm.count("help")) {
        std::cout << desc;
        return 0;
    }
    const bool debug = vm.count("debug") > 0;
    const std::string path = vm["plugin-dir"].as<std::string>() + "/" + vm["name"].as<std::string>() + ".sock";
    dpdock::docker::Driver driver(vm["socket"].as<std::string>(), "/proc/" + std::to_string(::getpid()) + "/ns/net",
                                  vm.count("save") > 0);

    boost::asio::io_context io;
    dpdock::docker::PluginServer server(io, [&](const std::string& method, const nlohmann::json& body) {
        auto out = driver.handle(method, body);
        const bool failed = !out || out->contains("Err");
        if (debug || failed) {
            std::fprintf(stderr, "dpdock-docker-plugin: %s %s -> %s\n", method.c_str(), debug ? body.dump().c_str() : "",
                         out ? out->dump().c_str() : "not implemented");
        }
        return out;
    });
    if (auto st = server.listen(path); !st) {
        std::cerr << "dpdock-docker-plugin: " << st.message() << "\n";
        return 1;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.close();
        io.stop();
    });
    std::fprintf(stderr, "dpdock-docker-plugin: serving %s for dpdockd at %s\n", path.c_str(),
                 vm["socket"].as<std::string>().c_str());
    io.run();
    return 0;
}
