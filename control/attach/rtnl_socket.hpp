// A NETLINK_ROUTE socket (libmnl) tied to one network namespace.
// A netlink socket acts in the netns it was created in; open_in() creates it
// on a short-lived thread that setns()'d, so the caller's thread never
// changes namespace. One owner thread uses a socket at a time (control thread).
#pragma once

#include <cstdint>
#include <string>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace dpdock::attach {

struct LinkInfo {
    int ifindex = 0;
    MacAddress mac;
    std::uint32_t mtu = 0;
};

class RtnlSocket {
public:
    // In the calling thread's namespace.
    static Result<RtnlSocket> open();
    // In the namespace bound at netns_path (e.g. /run/netns/NAME or /proc/PID/ns/net).
    static Result<RtnlSocket> open_in(const std::string& netns_path);

    RtnlSocket(RtnlSocket&& other) noexcept;
    RtnlSocket& operator=(RtnlSocket&& other) noexcept;
    RtnlSocket(const RtnlSocket&) = delete;
    RtnlSocket& operator=(const RtnlSocket&) = delete;
    ~RtnlSocket();

    // Sends nlh (NLM_F_ACK is added, seq assigned) and waits for the kernel's
    // answer. The error text carries strerror and the kernel's extended ack, if
    // any; kernel_errno (optional) receives the positive errno, 0 on success.
    Status request(nlmsghdr* nlh, int* kernel_errno = nullptr);
    // RTM_GETLINK by name in this socket's namespace; error if it does not exist.
    Result<LinkInfo> get_link(const std::string& ifname);

private:
    explicit RtnlSocket(mnl_socket* nl);
    // As request(), but every reply that is not the ack goes to on_reply.
    Status transact(nlmsghdr* nlh, int (*on_reply)(const nlmsghdr*, void*), void* reply_data, int* kernel_errno);
    void close_all();

    mnl_socket* nl_ = nullptr;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
};

// Fixed-size message buffer big enough for every request this module sends.
inline constexpr std::size_t kNlRequestBufferSize = 4096;

// Checks a Linux interface name (1..15 chars, no '/', ':' or whitespace).
Status validate_ifname(const std::string& ifname);

}  // namespace dpdock::attach
