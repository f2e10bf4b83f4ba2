// PluginServer: the HTTP side of a Docker plugin, Boost.Beast on a Unix
// stream socket (/run/docker/plugins/NAME.sock, where dockerd discovers
// plugins by name). Every call is POST /Method with a JSON body and gets a
// JSON answer: 200 with the handler's JSON, 404 for a method the handler does
// not know (Docker's "not implemented"), 400 for a body that is not JSON.
// Connections are kept alive as Docker's client expects. Threading: runs on
// the caller's io_context; with one thread running it, handlers run one at a
// time (the driver takes no locks).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "base/util/status.hpp"

namespace dpdock::docker {

using Handler = std::function<std::optional<nlohmann::json>(const std::string& method, const nlohmann::json& body)>;

class PluginServer {
public:
    PluginServer(boost::asio::io_context& io, Handler handler);
    ~PluginServer();
    PluginServer(const PluginServer&) = delete;
    PluginServer& operator=(const PluginServer&) = delete;

    // Listens on `path` (its directory is created; a socket file nobody
    // serves is replaced; a live one is an error) and starts accepting.
    Status listen(const std::string& path);
    // Stops accepting and removes the socket file; open connections end with the io_context.
    void close();

private:
    void accept();

    boost::asio::local::stream_protocol::acceptor acceptor_;
    Handler handler_;
    std::string path_;
};

}  // namespace dpdock::docker
