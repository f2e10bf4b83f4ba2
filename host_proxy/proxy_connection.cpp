#include "host_proxy/proxy_connection.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace dpdock::host_proxy {
namespace {

constexpr int kRounds = 16;

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

}  // namespace

bool transfer(int from, int to, Pipe& p) {
    for (int round = 0; round < kRounds; ++round) {
        bool moved = false;
        if (p.empty() && !p.eof) {
            const ssize_t n = ::recv(from, p.data.get(), kPipeBytes, 0);
            if (n > 0) {
                p.begin = 0;
                p.end = static_cast<std::size_t>(n);
                moved = true;
            } else if (n == 0) {
                p.eof = true;
            } else if (!would_block(errno)) {
                return false;
            }
        }
        if (!p.empty()) {
            const ssize_t n = ::send(to, p.data.get() + p.begin, p.end - p.begin, MSG_NOSIGNAL);
            if (n > 0) {
                p.begin += static_cast<std::size_t>(n);
                moved = true;
            } else if (n < 0 && !would_block(errno)) {
                return false;
            }
        }
        if (p.empty() && p.eof && !p.shut) {
            p.shut = true;
            if (::shutdown(to, SHUT_WR) != 0 && errno != ENOTCONN) return false;
        }
        if (!moved) break;
    }
    return true;
}

}  // namespace dpdock::host_proxy
