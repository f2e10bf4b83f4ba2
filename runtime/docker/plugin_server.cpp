#include "runtime/docker/plugin_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <memory>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "base/util/json_depth.hpp"

namespace dpdock::docker {
namespace {

namespace http = boost::beast::http;
using boost::asio::local::stream_protocol;
using nlohmann::json;

// Docker's plugin protocol names its own media type.
constexpr const char* kContentType = "application/vnd.docker.plugins.v1.2+json";

http::response<http::string_body> answer(const http::request<http::string_body>& req, const Handler& handler) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, kContentType);
    res.keep_alive(req.keep_alive());
    const std::string target(req.target());
    const std::string method = target.empty() ? target : target.substr(1);
    std::optional<json> out;
    if (req.method() != http::verb::post) {
        res.result(http::status::method_not_allowed);
        out = json{{"Err", "plugin calls are POST requests"}};
    } else {
        // Docker sends no body for Plugin.Activate and GetCapabilities. A deep
        // tree is refused before parsing: copying or printing it would recurse.
        const bool too_deep = nests_deeper_than(req.body(), kMaxJsonDepth);
        const json body = too_deep || req.body().empty() ? json::object() : json::parse(req.body(), nullptr, false);
        if (too_deep) {
            res.result(http::status::bad_request);
            out = json{{"Err", "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"}};
        } else if (body.is_discarded()) {
            res.result(http::status::bad_request);
            out = json{{"Err", "the request body is not JSON"}};
        } else {
            try {
                out = handler(method, body);
            } catch (const std::exception& e) {
                // Nothing may escape the io thread: the plugin would die under dockerd.
                res.result(http::status::internal_server_error);
                out = json{{"Err", std::string("dpdock's plugin failed: ") + e.what()}};
            }
            if (!out) {
                res.result(http::status::not_found);
                out = json{{"Err", "dpdock's plugin does not implement " + method}};
            }
        }
    }
    res.body() = out->dump(-1, ' ', false, json::error_handler_t::replace);
    res.prepare_payload();
    return res;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(stream_protocol::socket socket, const Handler& handler) : socket_(std::move(socket)), handler_(handler) {}

    void read() {
        request_ = {};
        http::async_read(socket_, buffer_, request_,
                         [self = shared_from_this()](boost::beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

private:
    void on_read(boost::beast::error_code ec) {
        if (ec) return;  // closed, or not HTTP: the connection ends with this session
        response_ = answer(request_, handler_);
        http::async_write(socket_, response_, [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
            if (!ec && self->response_.keep_alive()) self->read();
        });
    }

    stream_protocol::socket socket_;
    const Handler& handler_;
    boost::beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

}  // namespace

PluginServer::PluginServer(boost::asio::io_context& io, Handler handler)
    : acceptor_(io), handler_(std::move(handler)) {}

PluginServer::~PluginServer() { close(); }

Status PluginServer::listen(const std::string& path) {
    std::error_code fs_ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fs_ec);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return Status::error(path + " exists and is not a socket");
        stream_protocol::socket probe(acceptor_.get_executor());
        boost::system::error_code ec;
        probe.connect(stream_protocol::endpoint(path), ec);
        if (!ec) return Status::error("another plugin is already serving " + path);
        ::unlink(path.c_str());  // left by a plugin that died
    }
    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(path), ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::error("listen on " + path + ": " + ec.message());
    path_ = path;
    accept();
    return {};
}

void PluginServer::close() {
    if (path_.empty()) return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    ::unlink(path_.c_str());
    path_.clear();
}

void PluginServer::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
        if (!acceptor_.is_open()) return;  // closed
        if (!ec) std::make_shared<Session>(std::move(socket), handler_)->read();
        accept();
    });
}

}  // namespace dpdock::docker
