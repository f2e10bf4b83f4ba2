// The embedded DNS's counters (`stats.show` `dns`): written by the DNS thread
// only (relaxed atomics), read by the control thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace dpdock::dns {

struct DnsCounters {
    std::atomic<std::uint64_t> queries{0};
    std::atomic<std::uint64_t> answered{0};   // A/PTR from the table
    std::atomic<std::uint64_t> nodata{0};     // known name, no record of that type
    std::atomic<std::uint64_t> forwarded{0};
    std::atomic<std::uint64_t> upstream_answers{0};
    std::atomic<std::uint64_t> servfail{0};   // every upstream failed, or no upstream
    std::atomic<std::uint64_t> refused{0};    // internal network (no forwarding), unsupported opcode
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> rate_limited{0};
    std::atomic<std::uint64_t> not_served{0};  // to the gateway of a network without DNS (the default bridge)
    std::atomic<std::uint64_t> forward_full{0};  // too many queries waiting for upstream
    std::atomic<std::uint64_t> reply_full{0};    // the workers' reply ring was full
    std::atomic<std::uint64_t> tcp_queries{0};   // of `queries`, those that came over TCP
    std::atomic<std::uint64_t> tcp_connections{0};  // accepted
    std::atomic<std::uint64_t> tcp_rejected{0};  // closed at once: too many, or an asker outside the network
    std::atomic<std::uint64_t> tcp_dropped{0};   // closed: idle, broken, or answers piling up unread
};

inline void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

}  // namespace dpdock::dns
