#include "control/attach/rtnl_socket.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace dpdock::attach {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

struct AckState {
    int error = 0;            // positive errno from NLMSG_ERROR, 0 on success
    std::string kernel_text;  // NLMSGERR_ATTR_MSG when the kernel sent one
};

// Replaces libmnl's NLMSG_ERROR handling so the extended ack text survives.
int on_error_message(const nlmsghdr* nlh, void* data) {
    auto* ack = static_cast<AckState*>(data);
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
        ack->error = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (err->error == 0) return MNL_CB_STOP;
    ack->error = -err->error;
    if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
        // The TLVs follow the echoed request, which is cut to its header when capped.
        unsigned int offset = sizeof(nlmsgerr);
        if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
        mnl_attr_parse(
            nlh, offset,
            [](const nlattr* attr, void* text) {
                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
                    *static_cast<std::string*>(text) = mnl_attr_get_str(attr);
                }
                return MNL_CB_OK;
            },
            &ack->kernel_text);
    }
    return MNL_CB_ERROR;
}

struct ReplyRouting {
    AckState ack;
    int (*on_reply)(const nlmsghdr*, void*) = nullptr;
    void* reply_data = nullptr;
};

int on_data_message(const nlmsghdr* nlh, void* data) {
    auto* routing = static_cast<ReplyRouting*>(data);
    return routing->on_reply != nullptr ? routing->on_reply(nlh, routing->reply_data) : MNL_CB_OK;
}

int on_error_routed(const nlmsghdr* nlh, void* data) {
    return on_error_message(nlh, &static_cast<ReplyRouting*>(data)->ack);
}

struct GetLinkReply {
    LinkInfo info;
    bool seen = false;
};

int on_link_reply(const nlmsghdr* nlh, void* data) {
    auto* reply = static_cast<GetLinkReply*>(data);
    if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
    const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    reply->seen = true;
    reply->info.ifindex = ifm->ifi_index;
    mnl_attr_parse(
        nlh, sizeof(ifinfomsg),
        [](const nlattr* attr, void* out) {
            auto* info = static_cast<LinkInfo*>(out);
            const auto type = mnl_attr_get_type(attr);
            if (type == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
                info->mtu = mnl_attr_get_u32(attr);
            } else if (type == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == 6) {
                std::array<std::uint8_t, 6> bytes{};
                std::memcpy(bytes.data(), mnl_attr_get_payload(attr), bytes.size());
                info->mac = MacAddress(bytes);
            }
            return MNL_CB_OK;
        },
        &reply->info);
    return MNL_CB_OK;
}

}  // namespace

Status validate_ifname(const std::string& ifname) {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
        return Status::error("interface name '" + ifname + "' must have 1.." + std::to_string(IFNAMSIZ - 1) +
                             " characters");
    }
    for (char c : ifname) {
        if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n') {
            return Status::error("interface name '" + ifname + "' contains an invalid character");
        }
    }
    return Status();
}

RtnlSocket::RtnlSocket(mnl_socket* nl) : nl_(nl), portid_(mnl_socket_get_portid(nl)) {}

RtnlSocket::RtnlSocket(RtnlSocket&& other) noexcept
    : nl_(std::exchange(other.nl_, nullptr)),
      portid_(other.portid_),
      seq_(other.seq_) {}

RtnlSocket& RtnlSocket::operator=(RtnlSocket&& other) noexcept {
    if (this != &other) {
        close_all();
        nl_ = std::exchange(other.nl_, nullptr);
        portid_ = other.portid_;
        seq_ = other.seq_;
    }
    return *this;
}

RtnlSocket::~RtnlSocket() { close_all(); }

void RtnlSocket::close_all() {
    if (nl_ != nullptr) mnl_socket_close(nl_);
    nl_ = nullptr;
}

Result<RtnlSocket> RtnlSocket::open() {
    mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl == nullptr) return Status::error("netlink socket: " + errno_text(errno));
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int err = errno;
        mnl_socket_close(nl);
        return Status::error("netlink bind: " + errno_text(err));
    }
    int on = 1;
    // Best effort: older kernels lack extended acks and the errno alone still explains.
    mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof(on));
    return RtnlSocket(nl);
}

Result<RtnlSocket> RtnlSocket::open_in(const std::string& netns_path) {
    Result<RtnlSocket> result = Status::error("netns thread did not run");
    std::thread opener([&] {
        const int fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            result = Status::error("open netns " + netns_path + ": " + errno_text(errno));
            return;
        }
        const int rc = ::setns(fd, CLONE_NEWNET);
        const int err = errno;
        ::close(fd);
        if (rc != 0) {
            result = Status::error("setns " + netns_path + ": " + errno_text(err));
            return;
        }
        result = open();
    });
    opener.join();
    return result;
}

Status RtnlSocket::request(nlmsghdr* nlh, int* kernel_errno) { return transact(nlh, nullptr, nullptr, kernel_errno); }

Status RtnlSocket::transact(nlmsghdr* nlh, int (*on_reply)(const nlmsghdr*, void*), void* reply_data,
                            int* kernel_errno) {
    int ignored = 0;
    int& error_out = kernel_errno != nullptr ? *kernel_errno : ignored;
    error_out = 0;
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
        error_out = errno;
        return Status::error("netlink send: " + errno_text(error_out));
    }

    ReplyRouting routing;
    routing.on_reply = on_reply;
    routing.reply_data = reply_data;
    std::array<mnl_cb_t, NLMSG_MIN_TYPE> control{};
    control[NLMSG_ERROR] = on_error_routed;

    std::array<char, 16384> buffer{};
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl_, buffer.data(), buffer.size());
        if (n < 0) {
            error_out = errno;
            return Status::error("netlink receive: " + errno_text(error_out));
        }
        const int rc = mnl_cb_run2(buffer.data(), static_cast<std::size_t>(n), nlh->nlmsg_seq, portid_, on_data_message,
                                   &routing, control.data(), static_cast<unsigned int>(control.size()));
        if (rc == MNL_CB_STOP) return Status();
        if (rc == MNL_CB_ERROR) {
            const int err = routing.ack.error != 0 ? routing.ack.error : errno;
            error_out = err;
            std::string text = errno_text(err);
            if (!routing.ack.kernel_text.empty()) text += " (" + routing.ack.kernel_text + ")";
            return Status::error(text);
        }
    }
}

Result<LinkInfo> RtnlSocket::get_link(const std::string& ifname) {
    if (Status valid = validate_ifname(ifname); !valid) return valid;
    std::array<char, kNlRequestBufferSize> buffer{};
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
    // Without this filter the kernel would add per-VF data we never read.
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

    GetLinkReply reply;
    if (Status st = transact(nlh, on_link_reply, &reply, nullptr); !st)
        return Status::error("link " + ifname + ": " + st.message());
    if (!reply.seen) return Status::error("link " + ifname + ": no reply from the kernel");
    return reply.info;
}

}  // namespace dpdock::attach
