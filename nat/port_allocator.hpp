// Host ports (or ICMP echo ids) for translated flows, one bitmap per protocol
// over the configured range. Claims come from any worker (lock-free: one
// fetch_or/CAS per word), releases from the control thread's sweeper.
// A port stays claimed for as long as a conntrack entry holds it, so two flows
// of one protocol never share a host port, whatever their destinations.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace dpdock::nat {

class PortAllocator {
public:
    PortAllocator(std::uint16_t lo, std::uint16_t hi);

    // `preferred` when it is in range and free (Linux keeps the source port
    // when it can), else the next free port after a rotating cursor; nullopt
    // when every port of the range is taken.
    std::optional<std::uint16_t> claim(std::uint16_t preferred);
    void release(std::uint16_t port);
    std::uint32_t in_use() const;
    std::uint32_t size() const { return std::uint32_t{hi_} - lo_ + 1; }

private:
    bool try_claim(std::uint32_t offset);

    std::uint16_t lo_, hi_;
    std::uint32_t words_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;  // bit set = port taken
    std::atomic<std::uint32_t> cursor_{0};                // where the next search starts
};

}  // namespace dpdock::nat
