#include "tests/integration/outside.hpp"

#include "tests/support/process.hpp"

namespace dpdock::test {

std::string Outside::devargs(unsigned qpairs) const {
    std::string text = "net_af_packet_" + link.a_name() + ",iface=" + link.a_name();
    if (qpairs != 1) text += ",qpairs=" + std::to_string(qpairs);
    return text;
}

std::string Outside::uplink_yaml(unsigned qpairs, std::string_view extra) const {
    return "uplink:\n  devargs: " + devargs(qpairs) + "\n  address: " + host_ip.to_string() +
           "/24\n  gateway: " + ext_ip.to_string() + "\n" + std::string(extra);
}

Result<Outside> make_outside(std::string_view prefix24, const std::string& tag) {
    using R = Result<Outside>;
    const std::string prefix(prefix24);
    auto ext_ip = Ipv4Address::parse(prefix + ".1");
    auto host_ip = Ipv4Address::parse(prefix + ".2");
    if (!ext_ip || !host_ip) return R::error("outside: '" + prefix + "' is not three octets of an IPv4 address");
    auto ns = Netns::create("ext");
    if (!ns) return R::error("outside: " + ns.message());
    auto link = VethPair::create(nullptr, &*ns, tag);
    if (!link) return R::error("outside: " + link.message());
    if (auto st = link->up_with_address(VethPair::Side::B, Ipv4Cidr(*ext_ip, 24)); !st) {
        return R::error("outside: address " + ext_ip->to_string() + "/24 on " + link->b_name() + ": " + st.message());
    }
    const std::string offload = "ethtool -K " + link->b_name() + " tx off >/dev/null";
    if (ns->exec(offload) != 0) return R::error("outside: `" + offload + "` failed in " + ns->name());
    const std::string up = "ip link set " + link->a_name() + " up";
    if (shell(up) != 0) return R::error("outside: `" + up + "` failed");
    return Outside{std::move(*ns), std::move(*link), *ext_ip, *host_ip};
}

}  // namespace dpdock::test
