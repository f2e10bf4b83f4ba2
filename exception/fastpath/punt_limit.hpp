// PuntLimit: the rate at which one worker hands packets to the host's kernel
// (exception.punt-rate / punt-burst, per worker), so a flood at the host's
// addresses costs the kernel at most that much; the excess is dropped as
// punt_rate_limited before it takes a ring slot. The limit travels in the
// snapshot (a reload changes it); the bucket is re-armed when it differs.
// Worker code: one per worker, no sharing, no system call.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "base/util/token_bucket.hpp"

namespace dpdock::exception {

class PuntLimit {
public:
    // True when one more packet may go to the kernel at TSC time `now`
    // under `per_second` (0: no limit) and `burst`.
    bool admit(std::uint64_t now, std::uint32_t per_second, std::uint32_t burst) {
        if (per_second != per_second_ || burst != burst_) {
            bucket_.configure(rte_get_tsc_hz(), per_second, burst);
            per_second_ = per_second;
            burst_ = burst;
        }
        return bucket_.take(now);
    }

private:
    TokenBucket bucket_;  // unconfigured: no limit
    std::uint32_t per_second_ = 0;
    std::uint32_t burst_ = 0;
};

}  // namespace dpdock::exception
