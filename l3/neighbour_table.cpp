#include "l3/neighbour_table.hpp"

#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <algorithm>

namespace dpdock::l3 {

Result<std::unique_ptr<NeighbourTable>> NeighbourTable::create(const std::string& name, std::uint32_t capacity,
                                                               int socket) {
    using R = Result<std::unique_ptr<NeighbourTable>>;
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = capacity;
    params.key_len = sizeof(std::uint32_t);
    params.hash_func = rte_hash_crc;
    params.socket_id = socket;
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) return R::error("cannot create the neighbour table " + name);
    const std::int32_t max_key = rte_hash_max_key_id(hash);
    if (max_key < 0) {
        rte_hash_free(hash);
        return R::error("cannot size the neighbour table " + name);
    }
    return std::unique_ptr<NeighbourTable>(new NeighbourTable(hash, static_cast<std::size_t>(max_key) + 1));
}

NeighbourTable::NeighbourTable(rte_hash* hash, std::size_t slots)
    : hash_(hash), slots_(std::make_unique<Slot[]>(slots)), slot_count_(slots) {}

NeighbourTable::~NeighbourTable() { rte_hash_free(hash_); }

std::optional<MacAddress> NeighbourTable::lookup(Ipv4Address ip, std::uint64_t now,
                                                 std::uint64_t timeout_ticks) const {
    const std::uint32_t key = ip.host();
    const std::int32_t pos = rte_hash_lookup(hash_, &key);
    if (pos < 0 || static_cast<std::size_t>(pos) >= slot_count_) return std::nullopt;
    const Slot& slot = slots_[static_cast<std::size_t>(pos)];
    // Acquire pairs with confirm()'s release: the MAC read is at least as new.
    const std::uint64_t confirmed = slot.confirmed.load(std::memory_order_acquire);
    if (confirmed == 0 || now - confirmed >= timeout_ticks) return std::nullopt;
    return MacAddress::from_u64(slot.mac.load(std::memory_order_relaxed));
}

bool NeighbourTable::confirm(Ipv4Address ip, MacAddress mac, std::uint64_t now) {
    const std::uint32_t key = ip.host();
    const std::int32_t pos = rte_hash_add_key(hash_, &key);
    if (pos < 0 || static_cast<std::size_t>(pos) >= slot_count_) return false;
    Slot& slot = slots_[static_cast<std::size_t>(pos)];
    slot.mac.store(mac.to_u64(), std::memory_order_relaxed);
    slot.ip.store(key, std::memory_order_relaxed);
    slot.confirmed.store(now == 0 ? 1 : now, std::memory_order_release);
    return true;
}

std::vector<NeighbourView> NeighbourTable::dump(std::uint64_t now) const {
    std::vector<NeighbourView> out;
    for (std::size_t i = 0; i < slot_count_; ++i) {
        const Slot& slot = slots_[i];
        const std::uint64_t confirmed = slot.confirmed.load(std::memory_order_acquire);
        if (confirmed == 0) continue;
        out.push_back({Ipv4Address(slot.ip.load(std::memory_order_relaxed)),
                       MacAddress::from_u64(slot.mac.load(std::memory_order_relaxed)),
                       now > confirmed ? now - confirmed : 0});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ip.host() < b.ip.host(); });
    return out;
}

}  // namespace dpdock::l3
