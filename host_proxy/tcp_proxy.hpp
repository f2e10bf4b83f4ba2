// TcpProxy: dpdockd's userland proxy for published ports, Docker's
// docker-proxy as one thread. A connection the host makes to a published
// port never reaches the dataplane (the kernel delivers 127.0.0.1 and its own
// addresses over `lo`), so a listener per host port in the daemon's netns
// accepts it and opens a second connection to the container, which the
// kernel routes over the exception interface (dpdock0 carries the container
// subnets); bytes are copied both ways, half-closes passed on.
// Threading: add()/remove() from the control thread; one proxy thread (started
// at the first add) owns the I/O. Both touch the tables under one mutex; epoll
// data carries ids, never pointers, so an event of a removed socket is skipped.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "host_proxy/proxy_connection.hpp"

namespace dpdock::host_proxy {

// Connections open at once over all forwards; one more is accepted and reset
// at once (counted `over_limit`), so a flood costs no memory beyond this.
inline constexpr std::size_t kMaxConnections = 1024;
inline constexpr int kListenBacklog = 128;

struct Forward {
    Ipv4Address listen_ip;  // 0.0.0.0, 127.0.0.1, the host address
    std::uint16_t listen_port = 0;
    Ipv4Address to_ip;      // the container
    std::uint16_t to_port = 0;
    std::string to_string() const;  // "127.0.0.1:8080 -> 172.17.0.2:80"
    friend auto operator<=>(const Forward&, const Forward&) = default;
};

struct ProxyCounters {
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> connect_failed{0};  // the container refused or was unreachable
    std::atomic<std::uint64_t> over_limit{0};
    std::atomic<std::uint64_t> active{0};
};

class TcpProxy {
public:
    TcpProxy() = default;
    ~TcpProxy();  // stops the thread, closes every socket
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    // Binds and listens on forward.listen_* in the caller's netns. A port
    // taken there: "Bind for 127.0.0.1:8080 failed: port is already allocated".
    Status add(const Forward& forward);
    // Closes the listener and every connection it accepted; on return the
    // port is free again. No-op for a forward that is not there.
    void remove(const Forward& forward);

    std::vector<Forward> forwards() const;
    const ProxyCounters& counters() const { return counters_; }

private:
    struct Listener {
        Forward forward;
        int fd = -1;
    };

    Status start_thread();
    void run() noexcept;
    void on_event(std::uint64_t id, std::uint32_t events);
    void accept_all(std::uint64_t listener_id, const Listener& l);
    // Moves bytes, then closes the pair when it is done or failed, else re-arms its two fds.
    void service(std::uint64_t conn_id, Connection& c, std::uint32_t events, bool server_side);
    void rearm(std::uint64_t conn_id, Connection& c);
    // Sets what `fd` waits for: modified, added back, or removed while it is hung up with nothing to wait for.
    void watch(int fd, bool& watched, bool hup, std::uint32_t events, std::uint64_t data);
    void close_connection(std::uint64_t conn_id, bool reset);

    mutable std::mutex mutex_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: stop
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Listener> listeners_;
    std::unordered_map<std::uint64_t, Connection> connections_;
    ProxyCounters counters_;
};

}  // namespace dpdock::host_proxy
