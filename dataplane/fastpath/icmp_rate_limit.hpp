// The budget of ICMP errors one worker may originate, as Linux's global
// icmp_msgs_per_sec / icmp_msgs_burst: a token bucket refilled with TSC time.
// A flood of expiring or oversized packets then cannot turn the dataplane
// into a flood of errors. One per worker (in WorkerContext): no sharing.
#pragma once

#include <cstdint>

#include "base/util/token_bucket.hpp"

namespace dpdock::dataplane {

// What a worker keeps for the ICMP errors it sends.
struct IcmpErrorState {
    TokenBucket limit;
    std::uint16_t next_id = 0;  // IPv4 identification of the next error
};

}  // namespace dpdock::dataplane
