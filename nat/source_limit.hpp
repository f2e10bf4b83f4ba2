// SourceLimit: at most N flows per client address, like iptables' connlimit,
// for flows that clients outside open to published ports (the only flows a
// remote peer can create). Counting every address exactly would need a
// second table with its own insert/delete/reclaim; a count-min sketch (two
// rows of counters, each address counted in one counter per row, its count
// read as the smaller of the two) is fixed in size and never under-counts:
// a refused address has at least N flows, or shares both its counters with
// addresses that together have. Not thread-safe: Conntrack changes it under
// its create lock only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include <rte_hash_crc.h>

namespace dpdock::nat {

class SourceLimit {
public:
    // limit 0: no limit (nothing is counted).
    explicit SourceLimit(std::uint32_t limit)
        : limit_(limit), counts_(limit == 0 ? nullptr : std::make_unique<std::uint32_t[]>(kRows * kColumns)) {}

    bool enabled() const { return limit_ != 0; }
    // Counts one more flow of `ip` (wire order); false (nothing counted) when it has `limit` already.
    bool take(std::uint32_t ip) {
        if (!enabled()) return true;
        const auto c = cells(ip);
        if (std::min(counts_[c[0]], counts_[c[1]]) >= limit_) return false;
        for (std::uint32_t i : c) ++counts_[i];
        return true;
    }
    // One flow of `ip` is gone (it was counted by take()).
    void give_back(std::uint32_t ip) {
        if (!enabled()) return;
        for (std::uint32_t i : cells(ip)) --counts_[i];
    }

private:
    static constexpr std::uint32_t kRows = 2, kColumns = 1 << 15;  // 256 KiB
    std::array<std::uint32_t, kRows> cells(std::uint32_t ip) const {
        return {rte_hash_crc_4byte(ip, 0x5bd1e995) % kColumns, kColumns + rte_hash_crc_4byte(ip, 0x1b873593) % kColumns};
    }
    std::uint32_t limit_;
    std::unique_ptr<std::uint32_t[]> counts_;
};

}  // namespace dpdock::nat
