// Tells the control thread which links vanished from the daemon's netns, so a
// container that died (taking its veth with it) gets detached. Links are
// reported with their ifindex: a name can already belong to a successor (a
// reload deletes a veth and creates one of the same name before this
// notification is read), an ifindex is not reused that soon. Subscribes to
// RTNLGRP_LINK; the socket is non-blocking and meant for the daemon's epoll.
// A link moved to another netns (our own TAP move) is not a deletion and is not
// reported. If the kernel dropped notifications (socket overrun), take_overrun()
// says so once and the caller re-checks its links with ifindex_of().
// Threading: one owner (the control thread).
#pragma once

#include <string>
#include <vector>

#include "base/util/status.hpp"

struct mnl_socket;

namespace dpdock::attach {

struct DeletedLink {
    int ifindex = 0;
    std::string name;
};

class LinkWatcher {
public:
    static Result<LinkWatcher> open();

    LinkWatcher(LinkWatcher&& other) noexcept;
    LinkWatcher& operator=(LinkWatcher&& other) noexcept;
    LinkWatcher(const LinkWatcher&) = delete;
    LinkWatcher& operator=(const LinkWatcher&) = delete;
    ~LinkWatcher();

    int fd() const;
    // Links deleted since the last call, oldest first; never blocks.
    std::vector<DeletedLink> drain_deleted();
    // True once after notifications were lost; the caller must resynchronise.
    bool take_overrun();

private:
    explicit LinkWatcher(mnl_socket* nl) : nl_(nl) {}

    mnl_socket* nl_ = nullptr;
    bool overrun_ = false;
};

}  // namespace dpdock::attach
