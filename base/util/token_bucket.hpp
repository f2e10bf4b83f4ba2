// TokenBucket: a rate limit refilled with TSC time, `per_second` tokens a
// second with at most `burst` saved up (Linux's icmp_msgs_per_sec /
// icmp_msgs_burst shape). Worker code: no allocation, no system call; one
// bucket per worker (the ICMP errors it sends, the packets it punts), never shared.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpdock {

class TokenBucket {
public:
    // `per_second` tokens a second (0: no limit), at most `burst` saved up.
    void configure(std::uint64_t hz, std::uint32_t per_second, std::uint32_t burst) {
        cost_ = per_second == 0 ? 0 : std::max<std::uint64_t>(1, hz / per_second);
        capacity_ = cost_ * burst;
        credit_ = capacity_;
        last_ = 0;
    }

    // True (and one token spent) when a token is left at TSC time `now`.
    bool take(std::uint64_t now) {
        if (cost_ == 0) return true;
        if (now > last_) {
            credit_ = std::min(capacity_, credit_ + (now - last_));
            last_ = now;
        }
        if (credit_ < cost_) return false;
        credit_ -= cost_;
        return true;
    }

private:
    std::uint64_t cost_ = 0;      // ticks per token
    std::uint64_t capacity_ = 0;  // ticks: burst tokens
    std::uint64_t credit_ = 0;
    std::uint64_t last_ = 0;
};

}  // namespace dpdock
