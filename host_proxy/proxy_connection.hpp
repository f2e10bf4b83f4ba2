// One proxied TCP connection: the client's socket (accepted by a listener)
// and the proxy's own socket to the container, with a fixed buffer per
// direction. transfer() copies what can move without blocking and passes a
// half-close on (FIN from one side -> shutdown(SHUT_WR) of the other once its
// buffer is written), as docker-proxy does. Proxy thread only; no epoll here.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dpdock::host_proxy {

inline constexpr std::size_t kPipeBytes = 64 * 1024;

// The bytes of one direction read but not yet written.
struct Pipe {
    std::unique_ptr<char[]> data = std::make_unique<char[]>(kPipeBytes);
    std::size_t begin = 0;
    std::size_t end = 0;
    bool eof = false;   // the reading side sent its FIN
    bool shut = false;  // and it was passed on
    bool empty() const { return begin == end; }
};

// Copies from `from` into `p` and from `p` to `to` until both would block,
// a bounded number of rounds (fairness: level-triggered epoll calls again).
// False on an error of either socket (reset, unreachable).
bool transfer(int from, int to, Pipe& p);

struct Connection {
    std::uint64_t listener = 0;  // the listener that accepted it (its forward's removal closes it)
    int client = -1;
    int server = -1;
    bool connecting = true;  // the connect() to the container is in progress
    Pipe up;                 // client -> container
    Pipe down;               // container -> client
    // A socket that reported EPOLLHUP (both its directions shut) and has
    // nothing to wait for leaves the epoll set: epoll reports HUP whatever
    // the mask, so it would wake the thread in a loop until the other side
    // takes the bytes still in the pipe.
    bool client_hup = false;
    bool server_hup = false;
    bool client_watched = true;
    bool server_watched = true;

    bool done() const { return up.shut && down.shut; }
    // What each socket waits for: to read when its buffer is empty, to write while it holds bytes.
    std::uint32_t client_events() const {
        if (connecting) return 0;
        return (!up.eof && up.empty() ? EPOLLIN : 0u) | (!down.empty() ? EPOLLOUT : 0u);
    }
    std::uint32_t server_events() const {
        if (connecting) return EPOLLOUT;
        return (!down.eof && down.empty() ? EPOLLIN : 0u) | (!up.empty() ? EPOLLOUT : 0u);
    }
};

}  // namespace dpdock::host_proxy
