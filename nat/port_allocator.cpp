#include "nat/port_allocator.hpp"

#include <bit>

namespace dpdock::nat {

PortAllocator::PortAllocator(std::uint16_t lo, std::uint16_t hi)
    : lo_(lo), hi_(hi), words_((std::uint32_t{hi} - lo + 1 + 63) / 64),
      bits_(std::make_unique<std::atomic<std::uint64_t>[]>(words_)) {
    // Bits past the range's end are permanently taken, so searches never return them.
    const std::uint32_t tail = size() % 64;
    if (tail != 0) bits_[words_ - 1].store(~std::uint64_t{0} << tail, std::memory_order_relaxed);
}

bool PortAllocator::try_claim(std::uint32_t offset) {
    const std::uint64_t bit = std::uint64_t{1} << (offset % 64);
    return (bits_[offset / 64].fetch_or(bit, std::memory_order_relaxed) & bit) == 0;
}

std::optional<std::uint16_t> PortAllocator::claim(std::uint16_t preferred) {
    if (preferred >= lo_ && preferred <= hi_ && try_claim(std::uint32_t{preferred} - lo_)) return preferred;
    const std::uint32_t start = cursor_.fetch_add(1, std::memory_order_relaxed) % words_;
    for (std::uint32_t i = 0; i < words_; ++i) {
        const std::uint32_t w = (start + i) % words_;
        std::uint64_t cur = bits_[w].load(std::memory_order_relaxed);
        while (cur != ~std::uint64_t{0}) {
            const int b = std::countr_one(cur);
            const std::uint64_t bit = std::uint64_t{1} << b;
            cur = bits_[w].fetch_or(bit, std::memory_order_relaxed);
            if ((cur & bit) == 0) return static_cast<std::uint16_t>(lo_ + w * 64 + static_cast<std::uint32_t>(b));
        }
    }
    return std::nullopt;
}

void PortAllocator::release(std::uint16_t port) {
    if (port < lo_ || port > hi_) return;
    const std::uint32_t offset = std::uint32_t{port} - lo_;
    bits_[offset / 64].fetch_and(~(std::uint64_t{1} << (offset % 64)), std::memory_order_relaxed);
}

std::uint32_t PortAllocator::in_use() const {
    std::uint32_t n = 0;
    for (std::uint32_t w = 0; w < words_; ++w) n += static_cast<std::uint32_t>(std::popcount(bits_[w].load(std::memory_order_relaxed)));
    const std::uint32_t tail = size() % 64;
    return tail == 0 ? n : n - (64 - tail);
}

}  // namespace dpdock::nat
