#include "control/attach/netlink.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "control/attach/rtnl_socket.hpp"

namespace dpdock::attach {
namespace {

constexpr std::uint32_t kMinMtu = 68;  // IPv4 minimum (RFC 791)

class UniqueFd {
public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// One netlink request under construction; the buffer outlives the header.
class Message {
public:
    Message(std::uint16_t type, std::uint16_t flags) {
        nlh_ = mnl_nlmsg_put_header(buffer_.data());
        nlh_->nlmsg_type = type;
        nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
    }
    template <typename Header>
    Header* header() {
        return static_cast<Header*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(Header)));
    }
    nlmsghdr* get() { return nlh_; }

private:
    std::array<char, kNlRequestBufferSize> buffer_{};
    nlmsghdr* nlh_;
};

Status with_step(const std::string& step, const Status& st) {
    return st ? st : Status::error(step + ": " + st.message());
}

Status validate_config(const InterfaceConfig& inside) {
    if (Status st = validate_ifname(inside.name); !st) return st;
    if (inside.mtu < kMinMtu)
        return Status::error("mtu " + std::to_string(inside.mtu) + " is below " + std::to_string(kMinMtu));
    if (inside.address.prefix() > 32)
        return Status::error("address " + inside.address.to_string() + " has no valid prefix");
    if (inside.mac.is_multicast() || inside.mac.is_zero()) {
        return Status::error("mac " + inside.mac.to_string() + " is not a unicast address");
    }
    return Status();
}

Status set_flags_up(RtnlSocket& sock, int ifindex) {
    Message msg(RTM_NEWLINK, 0);
    auto* ifm = msg.header<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = ifindex;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    return sock.request(msg.get());
}

Status set_mac_mtu(RtnlSocket& sock, int ifindex, const MacAddress& mac, std::uint32_t mtu) {
    Message msg(RTM_NEWLINK, 0);
    auto* ifm = msg.header<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = ifindex;
    mnl_attr_put(msg.get(), IFLA_ADDRESS, mac.bytes().size(), mac.bytes().data());
    mnl_attr_put_u32(msg.get(), IFLA_MTU, mtu);
    return sock.request(msg.get());
}

Status add_address(RtnlSocket& sock, int ifindex, const Ipv4Cidr& cidr) {
    Message msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    auto* ifa = msg.header<ifaddrmsg>();
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = cidr.prefix();
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
    const std::uint32_t local = cidr.address().be().raw();
    mnl_attr_put_u32(msg.get(), IFA_LOCAL, local);
    mnl_attr_put_u32(msg.get(), IFA_ADDRESS, local);
    if (cidr.prefix() < 31) mnl_attr_put_u32(msg.get(), IFA_BROADCAST, cidr.broadcast().be().raw());
    return sock.request(msg.get());
}

Status add_default_route(RtnlSocket& sock, int ifindex, Ipv4Address gateway) {
    Message msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    auto* rtm = msg.header<rtmsg>();
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(msg.get(), RTA_GATEWAY, gateway.be().raw());
    mnl_attr_put_u32(msg.get(), RTA_OIF, static_cast<std::uint32_t>(ifindex));
    return sock.request(msg.get());
}

// Moves ifindex to the netns behind netns_fd under new_name; the kernel keeps
// the move and the rename in one step, so no temporary name is ever visible.
Status move_link(RtnlSocket& sock, int ifindex, int netns_fd, const std::string& new_name,
                 const std::optional<LinkInfo>& restore = std::nullopt) {
    Message msg(RTM_NEWLINK, 0);
    auto* ifm = msg.header<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = ifindex;
    mnl_attr_put_u32(msg.get(), IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
    mnl_attr_put_strz(msg.get(), IFLA_IFNAME, new_name.c_str());
    if (restore) {
        mnl_attr_put(msg.get(), IFLA_ADDRESS, restore->mac.bytes().size(), restore->mac.bytes().data());
        mnl_attr_put_u32(msg.get(), IFLA_MTU, restore->mtu);
    }
    return sock.request(msg.get());
}

Status delete_by_name(RtnlSocket& sock, const std::string& ifname) {
    Message msg(RTM_DELLINK, 0);
    auto* ifm = msg.header<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(msg.get(), IFLA_IFNAME, ifname.c_str());
    int err = 0;
    Status st = sock.request(msg.get(), &err);
    return err == ENODEV ? Status() : st;
}

// Everything after the interface sits in the netns under inside.name; sock
// lives in that netns. Order matters: the kernel installs the connected route
// only once the link is up, and the gateway must be reachable through it.
Status configure_inside(RtnlSocket& sock, const InterfaceConfig& inside) {
    Result<LinkInfo> link = sock.get_link(inside.name);
    if (!link) return with_step("find " + inside.name + " in netns", link.status());
    const int ifindex = link->ifindex;
    if (Status st = set_mac_mtu(sock, ifindex, inside.mac, inside.mtu); !st) {
        return with_step("set mac " + inside.mac.to_string() + " mtu " + std::to_string(inside.mtu), st);
    }
    if (Status st = add_address(sock, ifindex, inside.address); !st) {
        return with_step("add address " + inside.address.to_string(), st);
    }
    if (Status st = set_flags_up(sock, ifindex); !st) return with_step("set " + inside.name + " up", st);
    Result<LinkInfo> lo = sock.get_link("lo");
    if (!lo) return with_step("find lo in netns", lo.status());
    if (Status st = set_flags_up(sock, lo->ifindex); !st) return with_step("set lo up", st);
    if (inside.default_gateway) {
        if (Status st = add_default_route(sock, ifindex, *inside.default_gateway); !st) {
            return with_step("default route via " + inside.default_gateway->to_string(), st);
        }
    }
    return Status();
}

// A handed-over interface: the owner sets address, routes and the link state.
Status prepare_handover(RtnlSocket& sock, const InterfaceConfig& inside) {
    Result<LinkInfo> link = sock.get_link(inside.name);
    if (!link) return with_step("find " + inside.name + " in netns", link.status());
    if (Status st = set_mac_mtu(sock, link->ifindex, inside.mac, inside.mtu); !st) {
        return with_step("set mac " + inside.mac.to_string() + " mtu " + std::to_string(inside.mtu), st);
    }
    return Status();
}

Status open_netns(const std::string& netns_path, int* fd_out) {
    *fd_out = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (*fd_out < 0) return Status::error("open netns " + netns_path + ": " + std::strerror(errno));
    return Status();
}

}  // namespace

Status set_default_route(const std::string& netns_path, const std::string& ifname, Ipv4Address gateway) {
    const std::string what = "default route via " + gateway.to_string() + " dev " + ifname + " in " + netns_path + ": ";
    Result<RtnlSocket> there = RtnlSocket::open_in(netns_path);
    if (!there) return Status::error(what + there.message());
    Result<LinkInfo> link = there->get_link(ifname);
    if (!link) return Status::error(what + link.message());
    if (Status st = add_default_route(*there, link->ifindex, gateway); !st) return Status::error(what + st.message());
    return Status();
}

Result<int> create_veth(const std::string& host_ifname, const std::string& netns_path, const InterfaceConfig& inside) {
    const std::string what = "create_veth " + host_ifname + " -> " + netns_path + ":" + inside.name + ": ";
    auto fail = [&](const Status& st) { return Status::error(what + st.message()); };
    if (Status st = validate_ifname(host_ifname); !st) return fail(st);
    if (Status st = validate_config(inside); !st) return fail(st);

    Result<RtnlSocket> here = RtnlSocket::open();
    if (!here) return fail(here.status());
    Result<RtnlSocket> there = RtnlSocket::open_in(netns_path);
    if (!there) return fail(there.status());
    int raw_fd = -1;
    Status opened = open_netns(netns_path, &raw_fd);
    const UniqueFd netns_fd(raw_fd);
    if (!opened) return fail(opened);

    {
        Message msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        auto* ifm = msg.header<ifinfomsg>();
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(msg.get(), IFLA_IFNAME, host_ifname.c_str());
        mnl_attr_put_u32(msg.get(), IFLA_MTU, inside.mtu);
        nlattr* linkinfo = mnl_attr_nest_start(msg.get(), IFLA_LINKINFO);
        mnl_attr_put_strz(msg.get(), IFLA_INFO_KIND, "veth");
        nlattr* data = mnl_attr_nest_start(msg.get(), IFLA_INFO_DATA);
        nlattr* peer = mnl_attr_nest_start(msg.get(), VETH_INFO_PEER);
        auto* peer_ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(msg.get(), sizeof(ifinfomsg)));
        peer_ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(msg.get(), IFLA_IFNAME, inside.name.c_str());
        mnl_attr_put_u32(msg.get(), IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd.get()));
        mnl_attr_nest_end(msg.get(), peer);
        mnl_attr_nest_end(msg.get(), data);
        mnl_attr_nest_end(msg.get(), linkinfo);
        if (Status st = here->request(msg.get()); !st) return fail(with_step("create veth pair", st));
    }

    // From here on the pair exists: any failure deletes it (the peer goes with the host end).
    auto undo = [&](const Status& cause) {
        Status removed = delete_by_name(*here, host_ifname);
        std::string text = what + cause.message();
        if (!removed) text += "; cleanup failed: delete " + host_ifname + ": " + removed.message();
        return Status::error(text);
    };
    Result<LinkInfo> host = here->get_link(host_ifname);
    if (!host) return undo(with_step("find host end", host.status()));
    if (Status st = set_flags_up(*here, host->ifindex); !st) return undo(with_step("set " + host_ifname + " up", st));
    const Status inside_done = inside.handover ? prepare_handover(*there, inside) : configure_inside(*there, inside);
    if (!inside_done) return undo(inside_done);
    return host->ifindex;
}

Status move_and_configure(const std::string& ifname, const std::string& netns_path, const InterfaceConfig& inside) {
    const std::string what = "move_and_configure " + ifname + " -> " + netns_path + ":" + inside.name + ": ";
    auto fail = [&](const Status& st) { return Status::error(what + st.message()); };
    if (Status st = validate_ifname(ifname); !st) return fail(st);
    if (Status st = validate_config(inside); !st) return fail(st);

    Result<RtnlSocket> here = RtnlSocket::open();
    if (!here) return fail(here.status());
    Result<LinkInfo> original = here->get_link(ifname);
    if (!original) return fail(original.status());
    Result<RtnlSocket> there = RtnlSocket::open_in(netns_path);
    if (!there) return fail(there.status());
    int raw_fd = -1;
    Status opened = open_netns(netns_path, &raw_fd);
    const UniqueFd netns_fd(raw_fd);
    if (!opened) return fail(opened);

    if (Status st = move_link(*here, original->ifindex, netns_fd.get(), inside.name); !st) {
        return fail(with_step("move into netns", st));
    }
    Status configured = configure_inside(*there, inside);
    if (configured) return Status();

    // Moving out of a netns drops its addresses and routes; name, MAC and MTU are restored explicitly.
    std::string text = what + configured.message();
    int home_raw = -1;
    Status back = open_netns("/proc/thread-self/ns/net", &home_raw);
    const UniqueFd home_fd(home_raw);
    Result<LinkInfo> moved = there->get_link(inside.name);
    if (back && !moved) back = moved.status();
    if (back) back = move_link(*there, moved->ifindex, home_fd.get(), ifname, *original);
    if (!back) text += "; rollback failed: " + back.message();
    return Status::error(text);
}

Status delete_link(const std::string& ifname) {
    const std::string what = "delete_link " + ifname + ": ";
    if (Status st = validate_ifname(ifname); !st) return Status::error(what + st.message());
    Result<RtnlSocket> here = RtnlSocket::open();
    if (!here) return Status::error(what + here.message());
    if (Status st = delete_by_name(*here, ifname); !st) return Status::error(what + st.message());
    return Status();
}

bool has_link_in(const std::string& netns_path, const std::string& ifname) {
    Result<RtnlSocket> there = RtnlSocket::open_in(netns_path);
    return there && there->get_link(ifname).ok();
}

namespace {

// Runs `step` on a socket of the daemon's netns for the link named ifname.
template <typename Step>
Status on_link(const std::string& what, const std::string& ifname, Step step) {
    const auto index = ifindex_of(ifname);
    if (!index) return Status::error(what + ifname + ": no such interface");
    Result<RtnlSocket> here = RtnlSocket::open();
    if (!here) return Status::error(what + here.message());
    if (Status st = step(*here, *index); !st) return Status::error(what + ifname + ": " + st.message());
    return Status();
}

}  // namespace

Status set_link_up(const std::string& ifname) {
    return on_link("set_link_up ", ifname, [](RtnlSocket& sock, int index) { return set_flags_up(sock, index); });
}

Status add_interface_address(const std::string& ifname, const Ipv4Cidr& cidr) {
    return on_link("add address " + cidr.to_string() + " to ", ifname,
                   [&](RtnlSocket& sock, int index) { return add_address(sock, index, cidr); });
}

Status delete_interface_address(const std::string& ifname, const Ipv4Cidr& cidr) {
    return on_link("delete address " + cidr.to_string() + " from ", ifname, [&](RtnlSocket& sock, int index) {
        Message msg(RTM_DELADDR, 0);
        auto* ifa = msg.header<ifaddrmsg>();
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = cidr.prefix();
        ifa->ifa_index = static_cast<std::uint32_t>(index);
        mnl_attr_put_u32(msg.get(), IFA_LOCAL, cidr.address().be().raw());
        int err = 0;
        Status st = sock.request(msg.get(), &err);
        return err == EADDRNOTAVAIL ? Status() : st;  // already gone (with its link, or by hand)
    });
}

std::optional<int> ifindex_of(const std::string& ifname) {
    const unsigned int index = ::if_nametoindex(ifname.c_str());
    if (index == 0) return std::nullopt;
    return static_cast<int>(index);
}

}  // namespace dpdock::attach
