// Small socket plumbing shared by the traffic helpers: an owning fd, errno
// as a Status, and IPv4 socket addresses.
#pragma once

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::test {

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// "what: strerror(errno)".
inline Status sys_error(const std::string& what) { return Status::error(what + ": " + std::strerror(errno)); }

inline sockaddr_in to_sockaddr(Ipv4Address ip, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = ip.be().raw();
    sa.sin_port = htons(port);
    return sa;
}

inline std::string endpoint(Ipv4Address ip, std::uint16_t port) {
    return ip.to_string() + ":" + std::to_string(port);
}

}  // namespace dpdock::test
