// Which host ports (or ICMP echo ids) a new translated flow tries, in order,
// as Linux's nf_nat_l4proto_unique_tuple does: the container's own port when
// it lies in the range, then a run of consecutive ports starting at an offset
// the flow's hash picks, then shorter runs (half as long each time, down to
// 16) from fresh pseudo-random offsets. A run never exceeds the range, so a
// range of at most 128 ports is searched completely.
// This only proposes ports: the conntrack table is the record of which
// translated tuples are taken (a port is free for a destination as long as no
// flow to that destination holds it), so flows to different destinations
// share host ports and a protocol is not limited to one flow per port.
#pragma once

#include <cstdint>
#include <optional>

namespace dpdock::nat {

class PortSearch {
public:
    static constexpr std::uint32_t kFirstRun = 128;  // nf_nat's max_attempts
    static constexpr std::uint32_t kLastRun = 16;
    // At most this many candidates: the preferred port and 128 + 64 + 32 + 16.
    static constexpr std::uint32_t kMaxTries = 1 + 2 * kFirstRun - kLastRun;

    // `lo` <= `hi`; `seed` spreads flows over the range (a hash of the flow).
    PortSearch(std::uint16_t lo, std::uint16_t hi, std::uint16_t preferred, std::uint64_t seed);

    // The next port to try, or nullopt when the search gives up.
    std::optional<std::uint16_t> next();

private:
    std::uint32_t random_offset();

    std::uint16_t lo_;
    std::uint32_t size_;
    std::optional<std::uint16_t> preferred_;
    std::uint64_t state_;
    std::uint32_t run_;   // length of the current run
    std::uint32_t left_;  // ports left in it
    std::uint32_t offset_;
};

}  // namespace dpdock::nat
