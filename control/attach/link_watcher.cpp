#include "control/attach/link_watcher.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace dpdock::attach {
namespace {

// Room for bursts of notifications (a netns teardown deletes many links at once).
constexpr int kReceiveBufferBytes = 1 << 20;

struct DelLinkAttrs {
    const char* name = nullptr;
    bool moved_to_other_netns = false;
};

int on_link_attr(const nlattr* attr, void* data) {
    auto* attrs = static_cast<DelLinkAttrs*>(data);
    const auto type = mnl_attr_get_type(attr);
    if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
        attrs->name = mnl_attr_get_str(attr);
    } else if (type == IFLA_NEW_NETNSID) {
        attrs->moved_to_other_netns = true;
    }
    return MNL_CB_OK;
}

int on_message(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_DELLINK) return MNL_CB_OK;
    DelLinkAttrs attrs;
    if (mnl_attr_parse(nlh, sizeof(ifinfomsg), on_link_attr, &attrs) < 0) return MNL_CB_OK;
    if (attrs.name != nullptr && !attrs.moved_to_other_netns) {
        const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
        static_cast<std::vector<DeletedLink>*>(data)->push_back({ifm->ifi_index, attrs.name});
    }
    return MNL_CB_OK;
}

}  // namespace

Result<LinkWatcher> LinkWatcher::open() {
    mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (nl == nullptr) return Status::error(std::string("link watcher: netlink socket: ") + std::strerror(errno));
    LinkWatcher watcher(nl);
    int bytes = kReceiveBufferBytes;
    // Best effort: the default buffer still works, overruns are reported either way.
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
        return Status::error(std::string("link watcher: bind RTMGRP_LINK: ") + std::strerror(errno));
    }
    return watcher;
}

LinkWatcher::LinkWatcher(LinkWatcher&& other) noexcept
    : nl_(std::exchange(other.nl_, nullptr)), overrun_(other.overrun_) {}

LinkWatcher& LinkWatcher::operator=(LinkWatcher&& other) noexcept {
    if (this != &other) {
        if (nl_ != nullptr) mnl_socket_close(nl_);
        nl_ = std::exchange(other.nl_, nullptr);
        overrun_ = other.overrun_;
    }
    return *this;
}

LinkWatcher::~LinkWatcher() {
    if (nl_ != nullptr) mnl_socket_close(nl_);
}

int LinkWatcher::fd() const { return mnl_socket_get_fd(nl_); }

std::vector<DeletedLink> LinkWatcher::drain_deleted() {
    std::vector<DeletedLink> deleted;
    std::array<char, 32768> buffer{};
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl_, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == ENOBUFS || errno == ENOSPC) {  // kernel dropped some / one was too big
                overrun_ = true;
                continue;
            }
            if (errno == EINTR) continue;
            break;  // EAGAIN: drained
        }
        // seq 0 / portid 0: notifications are not answers to our requests.
        mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), 0, 0, on_message, &deleted);
    }
    return deleted;
}

bool LinkWatcher::take_overrun() { return std::exchange(overrun_, false); }

}  // namespace dpdock::attach
