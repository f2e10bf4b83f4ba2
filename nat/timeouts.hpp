// Conntrack timeouts, shared by the YAML model (config/) and the table (nat/).
#pragma once

#include <cstdint>

namespace dpdock::nat {

// Seconds, Linux's defaults (nf_conntrack_*_timeout_*).
struct Timeouts {
    std::uint32_t tcp_syn_sent = 120;
    std::uint32_t tcp_syn_recv = 60;
    std::uint32_t tcp_established = 432000;
    std::uint32_t tcp_fin_wait = 120;
    std::uint32_t tcp_close = 10;
    std::uint32_t udp_unreplied = 30;
    std::uint32_t udp_assured = 180;
    std::uint32_t icmp = 30;
    friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

}  // namespace dpdock::nat
