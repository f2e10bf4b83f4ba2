// The published ports workers see: (protocol, host port) -> container address
// and port, its network and MAC. Part of the forwarding snapshot, so it is
// built whole by the control thread (control/published_ports.cpp) and never
// changed once published.
//
// Lookup is one load from a flat index of 2 x 65536 rule numbers (512 KiB),
// whatever the number of rules: a 10,000-port range costs the same as one
// port, there is nothing to hash, and no DPDK object to name, size or free per
// snapshot (an rte_hash would need all three, and still cost a hash per packet).
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/packet/net_types.hpp"

namespace dpdock::nat {

// Counters of NAT rules (published ports and each network's MASQUERADE): slot numbers.
inline constexpr std::uint32_t kMaxRuleSlots = 4096;
inline constexpr std::uint32_t kNoRuleSlot = ~std::uint32_t{0};  // a rule without counters

struct PublishedRule {
    std::uint8_t proto = IPPROTO_TCP;
    std::uint16_t host_lo = 0;       // host ports host_lo..host_hi ...
    std::uint16_t host_hi = 0;
    std::uint16_t container_lo = 0;  // ... go to container_lo + (port - host_lo), or to container_lo alone
    bool one_container_port = false;
    Ipv4Address container_ip;
    MacAddress container_mac;
    NetworkId network = kNoNetwork;
    Ipv4Address gateway;             // the container's network's gateway: hairpin flows come from it
    std::uint32_t slot = kNoRuleSlot;
    std::string container;           // for views

    std::uint16_t container_port(std::uint16_t host_port) const {
        return one_container_port ? container_lo : static_cast<std::uint16_t>(container_lo + (host_port - host_lo));
    }
};

class PortMap {
public:
    PortMap();
    // false (and nothing added) when one of its host ports is already published.
    bool add(const PublishedRule& rule);

    // The rule publishing `host_port` (host order) for IPPROTO_TCP/UDP, else nullptr.
    const PublishedRule* find(std::uint8_t proto, std::uint16_t host_port) const {
        if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return nullptr;
        const std::uint32_t n = index_[(proto == IPPROTO_UDP ? kPorts : 0) + host_port];
        return n == 0 ? nullptr : &rules_[n - 1u];
    }
    const std::vector<PublishedRule>& rules() const { return rules_; }
    bool empty() const { return rules_.empty(); }

private:
    static constexpr std::size_t kPorts = 65536;
    std::vector<PublishedRule> rules_;
    std::unique_ptr<std::uint32_t[]> index_;  // [tcp ports, udp ports]: rule number + 1, 0 = none
};

// Per-worker packet and byte counters of every rule slot; one writer (the worker).
struct RuleCounter {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};
struct alignas(64) RuleCounters {
    std::array<RuleCounter, kMaxRuleSlots> slots{};
};

}  // namespace dpdock::nat
