#include "control/host_interface.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "control/attach/netlink.hpp"
#include "exception/host_addresses.hpp"

namespace dpdock::control {
namespace {

// The kernel interface's own MAC, which punted frames must carry as their
// destination (anything else is PACKET_OTHERHOST to the kernel).
Result<MacAddress> kernel_mac_of(const std::string& ifname) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Result<MacAddress>::error(std::string("socket: ") + std::strerror(errno));
    ifreq req{};
    std::memcpy(req.ifr_name, ifname.c_str(), std::min(ifname.size() + 1, sizeof req.ifr_name));
    const int rc = ::ioctl(fd, SIOCGIFHWADDR, &req);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Result<MacAddress>::error("cannot read the MAC of " + ifname + ": " + std::strerror(err));
    std::array<std::uint8_t, 6> bytes{};
    std::memcpy(bytes.data(), req.ifr_hwaddr.sa_data, bytes.size());
    return MacAddress(bytes);
}

// dpdock networks are IPv4 only: without IPv6 the kernel sends no router
// solicitations or MLD reports the dataplane would only count as dropped.
void disable_ipv6(const std::string& ifname) {
    std::ofstream("/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6") << "1\n";
}

}  // namespace

Status HostInterface::open(const config::ExceptionSpec& spec) {
    wanted_ = spec.enabled && open_ && open_->name == spec.interface;
    punt_rate_ = spec.punt_rate;
    punt_burst_ = spec.punt_burst;
    if (!spec.enabled || open_) return Status();
    // The TAP's receive ring holds one mbuf per descriptor for good (see
    // config's check_exception); the interface's MTU is the kernel's default.
    auto port = dp_.add_port("net_tap_" + spec.interface + ",iface=" + spec.interface, 1500);
    if (!port) return Status::error("exception interface " + spec.interface + ": " + port.message());
    auto mac = kernel_mac_of(spec.interface);
    if (!mac) {
        (void)dp_.remove_port(*port);
        return Status::error("exception interface: " + mac.message());
    }
    disable_ipv6(spec.interface);
    if (auto st = attach::set_link_up(spec.interface); !st) {
        (void)dp_.remove_port(*port);
        return Status::error("exception interface: " + st.message());
    }
    open_ = Open{spec.interface, *port, *mac, {}};
    wanted_ = true;
    return Status();
}

void HostInterface::fill(dataplane::ForwardingSnapshot& snap) const {
    if (!open_ || !wanted_) return;
    snap.ports[open_->port] = {dataplane::PortRole::Host, kNoNetwork};
    snap.host = dataplane::HostInfo{open_->port, open_->kernel_mac, 0, punt_rate_, punt_burst_};
}

bool HostInterface::close_unwanted() {
    if (!open_ || wanted_) return false;
    if (auto st = dp_.remove_port(open_->port); !st) {
        std::fprintf(stderr, "dpdockd: removing the exception interface %s: %s\n", open_->name.c_str(),
                     st.message().c_str());
    }
    open_.reset();
    return true;
}

Status HostInterface::sync_addresses(const std::optional<Ipv4Cidr>& uplink, const std::vector<Ipv4Cidr>& gateways) {
    if (!open_ || !wanted_) return Status();
    const auto plan = exception::plan(open_->addresses, exception::wanted_addresses(uplink, gateways));
    for (const Ipv4Cidr& c : plan.remove) {
        if (auto st = attach::delete_interface_address(open_->name, c); !st) return st;
        std::erase(open_->addresses, c);
    }
    for (const Ipv4Cidr& c : plan.add) {
        if (auto st = attach::add_interface_address(open_->name, c); !st) return st;
        open_->addresses.push_back(c);
    }
    return Status();
}

}  // namespace dpdock::control
