// How long an idle worker sleeps: nothing while packets flow; after a run of
// kIdlePollsBeforeSleep empty polls, `first_us`, doubled after every
// kSleepsPerStep sleeps up to `max_us`; the first packet resets it. Busy
// workers poll, idle ones cost one wake-up per `max_us` (dataplane
// idle-sleep-us / idle-sleep-max-us), and a packet arriving after a long
// idle time waits at most `max_us` (a packet on a queue with a wake
// descriptor wakes the worker at once: idle_wait.hpp). The slow
// ramp (the cap is reached after roughly 100-200 ms without a packet, about
// TCP's minimum RTO, after which Linux senders restart from a small window)
// keeps the long sleeps away from the pauses inside a flow: a sender's
// window arriving during a long sleep could overrun a port's rx ring.
// `first_us` 0: pure polling, never sleeps. One per worker; no time is read.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpdock::dataplane {

class IdleBackoff {
public:
    static constexpr unsigned kIdlePollsBeforeSleep = 256;
    static constexpr unsigned kSleepsPerStep = 64;

    IdleBackoff(std::uint32_t first_us, std::uint32_t max_us)
        : first_us_(first_us), max_us_(std::max(first_us, max_us)), next_us_(first_us) {}

    // After a poll that received `received` packets: how long to sleep now (0: poll again).
    std::uint32_t after_poll(std::uint64_t received) {
        if (received != 0 || first_us_ == 0) {
            idle_polls_ = 0;
            sleeps_ = 0;
            next_us_ = first_us_;
            return 0;
        }
        if (idle_polls_ < kIdlePollsBeforeSleep) {
            ++idle_polls_;
            return 0;
        }
        const std::uint32_t sleep = next_us_;
        if (++sleeps_ == kSleepsPerStep) {
            sleeps_ = 0;
            next_us_ = next_us_ > max_us_ / 2 ? max_us_ : next_us_ * 2;
        }
        return sleep;
    }

private:
    std::uint32_t first_us_;
    std::uint32_t max_us_;
    std::uint32_t next_us_;
    unsigned idle_polls_ = 0;
    unsigned sleeps_ = 0;  // at the current length
};

}  // namespace dpdock::dataplane
