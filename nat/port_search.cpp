#include "nat/port_search.hpp"

#include <algorithm>

namespace dpdock::nat {

PortSearch::PortSearch(std::uint16_t lo, std::uint16_t hi, std::uint16_t preferred, std::uint64_t seed)
    : lo_(lo), size_(std::uint32_t{hi} - lo + 1), state_(seed), run_(std::min(size_, kFirstRun)), left_(run_),
      offset_(random_offset()) {
    if (preferred >= lo && preferred <= hi) preferred_ = preferred;
}

// splitmix64: cheap, and deterministic for a given flow (tests can rely on it).
std::uint32_t PortSearch::random_offset() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) % size_);
}

std::optional<std::uint16_t> PortSearch::next() {
    if (preferred_) {
        const auto p = *preferred_;
        preferred_.reset();
        return p;
    }
    if (left_ == 0) {
        // A run that covered the whole range, or the shortest one, ends the search.
        if (run_ >= size_ || run_ <= kLastRun) return std::nullopt;
        run_ /= 2;
        left_ = run_;
        offset_ = random_offset();
    }
    --left_;
    const std::uint32_t port = lo_ + offset_;
    offset_ = offset_ + 1 == size_ ? 0 : offset_ + 1;
    return static_cast<std::uint16_t>(port);
}

}  // namespace dpdock::nat
