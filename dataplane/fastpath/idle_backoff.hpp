// How long an idle worker sleeps: nothing while packets flow, nor for
// `poll_cycles` (idle-poll-us) after the last packet, so that the answer to
// what it just forwarded (a container's reply, a TCP ACK) finds it polling
// rather than asleep on another vCPU (waking it costs a cross-CPU wake-up,
// 12-25 us on a 2-vCPU VM: bench/README.md, "Paced request/response").
// Then `first_us`, doubled after every kSleepsPerStep sleeps up to `max_us`;
// the first packet resets it. Busy workers poll, idle ones cost one wake-up
// per `max_us` (dataplane idle-sleep-us / idle-sleep-max-us), and a packet
// arriving after a long idle time waits at most `max_us` (a packet on a
// queue with a wake descriptor wakes the worker at once: idle_wait.hpp). The
// slow ramp (the cap is reached after roughly 100-200 ms without a packet,
// about TCP's minimum RTO, after which Linux senders restart from a small
// window) keeps the long sleeps away from the pauses inside a flow: a
// sender's window arriving during a long sleep could overrun a port's rx
// ring. The window is in time, not polls: an empty poll of a kernel port
// costs 1-5 us (its recvmmsg) depending on the load. `first_us` 0: pure
// polling, never sleeps. One per worker; the caller reads the clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpdock::dataplane {

class IdleBackoff {
public:
    static constexpr unsigned kSleepsPerStep = 64;

    IdleBackoff(std::uint32_t first_us, std::uint32_t max_us, std::uint64_t poll_cycles)
        : first_us_(first_us), max_us_(std::max(first_us, max_us)), next_us_(first_us), poll_cycles_(poll_cycles) {}

    // After a poll that received `received` packets, at TSC time `now`: how
    // long to sleep now (0: poll again).
    std::uint32_t after_poll(std::uint64_t received, std::uint64_t now) {
        if (received != 0 || first_us_ == 0) {
            last_packet_ = now;
            sleeps_ = 0;
            next_us_ = first_us_;
            return 0;
        }
        if (now - last_packet_ < poll_cycles_) return 0;
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
    std::uint64_t poll_cycles_;
    std::uint64_t last_packet_ = 0;  // TSC; 0 before the first packet: the window has passed
    unsigned sleeps_ = 0;            // at the current length
};

}  // namespace dpdock::dataplane
