#include "l3/neighbour_table.hpp"

#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <algorithm>

namespace dpdock::l3 {

Result<std::unique_ptr<NeighbourTable>> NeighbourTable::create(const std::string& name, std::uint32_t capacity,
                                                               int socket, rte_rcu_qsbr* qsbr) {
    using R = Result<std::unique_ptr<NeighbourTable>>;
    if (qsbr == nullptr) return R::error("the neighbour table needs the workers' RCU variable");
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = capacity;
    params.key_len = sizeof(std::uint32_t);
    params.hash_func = rte_hash_crc;
    params.socket_id = socket;
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) return R::error("cannot create the neighbour table " + name);
    rte_hash_rcu_config rcu{};
    rcu.v = qsbr;
    rcu.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(hash, &rcu) != 0) {
        rte_hash_free(hash);
        return R::error("cannot attach RCU to the neighbour table " + name);
    }
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

std::optional<Neighbour> NeighbourTable::lookup(Ipv4Address ip, std::uint64_t now, const NeighbourTiming& timing) {
    const std::uint32_t key = ip.host();
    const std::int32_t pos = rte_hash_lookup(hash_, &key);
    if (pos < 0 || static_cast<std::size_t>(pos) >= slot_count_) return std::nullopt;
    Slot& slot = slots_[static_cast<std::size_t>(pos)];
    // Acquire pairs with store()'s release: the MAC read is at least as new.
    const std::uint64_t confirmed = slot.confirmed.load(std::memory_order_acquire);
    if (confirmed == 0) return std::nullopt;
    const std::uint64_t age = now > confirmed ? now - confirmed : 0;
    if (age >= timing.expiry()) return std::nullopt;
    Neighbour n{MacAddress::from_u64(slot.mac.load(std::memory_order_relaxed)), false};
    if (age >= timing.reachable) {
        // STALE: one re-probe per retry interval, claimed by whichever worker gets there first.
        std::uint64_t probed = slot.probed.load(std::memory_order_relaxed);
        n.probe = (probed < confirmed || now - probed >= timing.retry) &&
                  slot.probed.compare_exchange_strong(probed, now, std::memory_order_relaxed);
    }
    return n;
}

void NeighbourTable::solicit(Ipv4Address ip) {
    solicited_[solicit_index(ip.host())].store(ip.host(), std::memory_order_relaxed);
}

bool NeighbourTable::solicited(Ipv4Address ip) const {
    return ip.host() != 0 && solicited_[solicit_index(ip.host())].load(std::memory_order_relaxed) == ip.host();
}

void NeighbourTable::store(Slot& slot, std::uint32_t ip, MacAddress mac, std::uint64_t now) {
    slot.mac.store(mac.to_u64(), std::memory_order_relaxed);
    slot.ip.store(ip, std::memory_order_relaxed);
    slot.confirmed.store(now == 0 ? 1 : now, std::memory_order_release);
}

bool NeighbourTable::refresh(Ipv4Address ip, MacAddress mac, std::uint64_t now) {
    const std::uint32_t key = ip.host();
    const std::int32_t pos = rte_hash_lookup(hash_, &key);
    if (pos < 0 || static_cast<std::size_t>(pos) >= slot_count_) return false;
    store(slots_[static_cast<std::size_t>(pos)], key, mac, now);
    return true;
}

bool NeighbourTable::confirm(Ipv4Address ip, MacAddress mac, std::uint64_t now, const NeighbourTiming& timing) {
    if (refresh(ip, mac, now)) return true;
    const std::uint32_t key = ip.host();
    sweep(kSweepPerAdd, now, timing);
    std::int32_t pos = rte_hash_add_key(hash_, &key);
    if (pos < 0) {
        // Full: free every expired entry. Their key slots come back after a
        // grace period, so this address may have to wait for its next reply.
        sweep(slot_count_, now, timing);
        pos = rte_hash_add_key(hash_, &key);
    }
    if (pos < 0 || static_cast<std::size_t>(pos) >= slot_count_) return false;
    store(slots_[static_cast<std::size_t>(pos)], key, mac, now);
    return true;
}

void NeighbourTable::sweep(std::size_t count, std::uint64_t now, const NeighbourTiming& timing) {
    for (std::size_t i = 0; i < count; ++i) {
        Slot& slot = slots_[sweep_at_];
        sweep_at_ = sweep_at_ + 1 == slot_count_ ? 0 : sweep_at_ + 1;
        const std::uint64_t confirmed = slot.confirmed.load(std::memory_order_relaxed);
        if (confirmed == 0 || now <= confirmed || now - confirmed < timing.expiry()) continue;
        // Emptied before the key goes: a reader still holding this position reads a miss.
        slot.confirmed.store(0, std::memory_order_release);
        const std::uint32_t key = slot.ip.load(std::memory_order_relaxed);
        rte_hash_del_key(hash_, &key);
    }
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
