// Outside: the world beyond dpdockd's uplink in an integration test. An `ext`
// namespace holds the far end of a veth pair at X.1/24; the pair's other end,
// in the test's own namespace, is the interface dpdockd opens as its uplink
// (af_packet) at X.2/24 with X.1 as gateway. Removed (namespace and veth) when
// it goes out of scope, also when the test fails.
#pragma once

#include <string>
#include <string_view>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "tests/support/netns.hpp"

namespace dpdock::test {

struct Outside {
    Netns ns;
    VethPair link;         // a: the uplink's interface (test netns); b: in ns
    Ipv4Address ext_ip;    // X.1: ns's address, the uplink's gateway
    Ipv4Address host_ip;   // X.2: the uplink's address (dpdock's host address)

    // DPDK devargs that open link's host end as an af_packet port with `qpairs` queue pairs.
    std::string devargs(unsigned qpairs = 1) const;
    // The YAML `uplink:` section for this link; `extra` adds lines of the section ("  mtu: 1400\n").
    std::string uplink_yaml(unsigned qpairs = 1, std::string_view extra = "") const;
};

// Makes ns ("ext-..."), the veth pair (named after `tag`, see unique_ifname),
// ns's address prefix24 + ".1" (prefix24: three octets, "192.168.79"), both
// ends up, and ns's transmit checksum offload off: what ns sends must carry
// complete checksums, since NAT patches checksums but does not finish them.
// An error names the step that failed.
Result<Outside> make_outside(std::string_view prefix24, const std::string& tag = "up");

}  // namespace dpdock::test
