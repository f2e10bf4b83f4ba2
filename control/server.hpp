// ControlServer: the daemon's Unix stream socket. Each client sends request
// lines and gets one response line per request, in order (protocol.hpp).
// Runs entirely on the EventLoop's thread and handlers run synchronously, so
// a client is served while no other handler runs. Limits: a request line over
// max_request_bytes gets an error and the connection closes; a client that
// stops reading has its further requests wait unanswered while its unsent
// output is large, and still read up to max_input_bytes (pipelining: a client
// may write every request before reading an answer), then it gets kernel
// backpressure; it is dropped if its unsent output exceeds max_output_bytes
// or it makes no progress for idle_timeout. Only root, the daemon's own user, and members of
// `group` (primary or supplementary, from SO_PEERCRED/SO_PEERGROUPS) are served.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "control/command_registry.hpp"
#include "control/event_loop.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

struct ServerOptions {
    std::string path = "/run/dpdock/dpdock.sock";
    mode_t mode = 0660;
    std::optional<gid_t> group = std::nullopt;  // socket file's group, and the group allowed in
    std::size_t max_request_bytes = std::size_t{1} << 20;
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
    std::size_t max_output_bytes = std::size_t{64} << 20;
    // Requests read but not yet answered; must exceed max_request_bytes.
    std::size_t max_input_bytes = std::size_t{16} << 20;
    std::size_t max_clients = 256;
};

class ControlServer {
public:
    ControlServer(EventLoop& loop, const CommandRegistry& registry, ServerOptions options);
    // Closes every client and the listener and unlinks the socket file if it is still ours.
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Creates the parent directory, replaces a stale socket file (nobody
    // listening), refuses a path where another daemon is live, then binds,
    // sets mode/group and listens. Call once.
    Status start();

    std::size_t client_count() const { return clients_.size(); }

private:
    struct Client;

    void on_accept();
    // nullopt: refused; else who it is (root or our own user is privileged).
    std::optional<Caller> peer_caller(int fd) const;
    void on_client_event(int fd, std::uint32_t events);
    void read_from(Client& client);
    // Whether more of the client's requests may be read into its buffer.
    bool reading(const Client& client) const;
    void process_lines(Client& client);
    void handle_line(Client& client, std::string_view line);
    void queue_response(Client& client, const nlohmann::json& response);
    void flush(Client& client);
    void update_interest(Client& client);
    void close_client(int fd);
    void close_idle_clients();

    EventLoop& loop_;
    const CommandRegistry& registry_;
    ServerOptions options_;
    int listen_fd_ = -1;
    ino_t socket_inode_ = 0;  // to unlink only the file we bound, not a successor's
    std::optional<EventLoop::TimerId> idle_timer_;
    std::unordered_map<int, std::unique_ptr<Client>> clients_;
};

}  // namespace dpdock::control
