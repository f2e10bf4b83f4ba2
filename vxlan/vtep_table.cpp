#include "vxlan/vtep_table.hpp"

#include <vector>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>

namespace dpdock::vxlan {

Result<std::unique_ptr<VtepTable>> VtepTable::create(const std::string& name, int socket, rte_rcu_qsbr* qsbr) {
    using R = Result<std::unique_ptr<VtepTable>>;
    if (qsbr == nullptr) return R::error("the VTEP table needs the workers' RCU variable");
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = kMaxVteps;
    params.key_len = sizeof(std::uint32_t);
    params.hash_func = rte_hash_crc;
    params.socket_id = socket;
    // One writer at a time (add_lock_); EXT_TABLE: all kMaxVteps keys always fit.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) return R::error("cannot create the VTEP table " + name);
    rte_hash_rcu_config rcu{};
    rcu.v = qsbr;
    rcu.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(hash, &rcu) != 0) {
        rte_hash_free(hash);
        return R::error("cannot attach RCU to the VTEP table " + name);
    }
    return std::unique_ptr<VtepTable>(new VtepTable(hash, qsbr));
}

VtepTable::~VtepTable() { rte_hash_free(hash_); }

PortId VtepTable::find(Ipv4Address ip) const {
    const std::uint32_t key = ip.host();
    void* data = nullptr;
    if (key == 0 || rte_hash_lookup_data(hash_, &key, &data) < 0) return kNoPort;
    return static_cast<PortId>(reinterpret_cast<std::uintptr_t>(data));
}

PortId VtepTable::add_locked(std::uint32_t ip, Kind kind, std::uint64_t now, bool& added) {
    added = false;
    if (const PortId known = find(Ipv4Address(ip)); known != kNoPort) return known;
    for (unsigned i = 0; i < kMaxVteps; ++i) {
        Slot& slot = slots_[i];
        if (slot.kind.load(std::memory_order_relaxed) != kFree) continue;
        const auto port = static_cast<PortId>(kVtepPortBase + i);
        slot.seen.store(now, std::memory_order_relaxed);
        slot.ip.store(ip, std::memory_order_release);  // before the index publishes it
        slot.kind.store(kind, std::memory_order_relaxed);
        if (rte_hash_add_key_data(hash_, &ip, reinterpret_cast<void*>(std::uintptr_t{port})) < 0) {
            slot.kind.store(kFree, std::memory_order_relaxed);
            slot.ip.store(0, std::memory_order_release);
            return kNoPort;
        }
        added = true;
        return port;
    }
    return kNoPort;
}

PortId VtepTable::port_of(Ipv4Address ip) {
    if (ip.host() == 0) return kNoPort;
    rte_spinlock_lock(&add_lock_);
    bool added = false;
    const PortId port = add_locked(ip.host(), kConfigured, 0, added);
    if (port != kNoPort) {
        Slot& slot = slots_[port - kVtepPortBase];
        // A learned VTEP that is now configured is no longer aged or counted.
        if (slot.kind.load(std::memory_order_relaxed) == kLearned) {
            slot.kind.store(kConfigured, std::memory_order_relaxed);
            learned_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    rte_spinlock_unlock(&add_lock_);
    return port;
}

PortId VtepTable::learn(Ipv4Address ip, std::uint64_t now) {
    PortId port = find(ip);
    if (port == kNoPort) {
        if (ip.host() == 0 || learned_.load(std::memory_order_relaxed) >= kMaxLearnedVteps) return kNoPort;
        rte_spinlock_lock(&add_lock_);
        if (learned_.load(std::memory_order_relaxed) < kMaxLearnedVteps) {
            bool added = false;
            port = add_locked(ip.host(), kLearned, now, added);
            if (added) learned_.fetch_add(1, std::memory_order_relaxed);
        }
        rte_spinlock_unlock(&add_lock_);
        return port;
    }
    Slot& slot = slots_[port - kVtepPortBase];
    // Refreshed at most once per tick value, by whichever worker forwards the
    // uplink's VXLAN (flows spread over workers): a relaxed store, last one wins.
    if (slot.seen.load(std::memory_order_relaxed) != now) slot.seen.store(now, std::memory_order_relaxed);
    return port;
}

std::size_t VtepTable::expire(std::uint64_t now, std::uint64_t max_age, const std::function<void(PortId)>& forget) {
    std::vector<unsigned> retired;
    rte_spinlock_lock(&add_lock_);
    for (unsigned i = 0; i < kMaxVteps; ++i) {
        Slot& slot = slots_[i];
        if (slot.kind.load(std::memory_order_relaxed) != kLearned) continue;
        const std::uint64_t seen = slot.seen.load(std::memory_order_relaxed);
        if (now <= seen || now - seen < max_age) continue;
        const std::uint32_t key = slot.ip.load(std::memory_order_relaxed);
        rte_hash_del_key(hash_, &key);
        slot.kind.store(kRetired, std::memory_order_relaxed);
        retired.push_back(i);
    }
    rte_spinlock_unlock(&add_lock_);
    if (retired.empty()) return 0;
    // No worker still holds a retired index (from a lookup or in a packet) after this.
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    for (unsigned i : retired) forget(static_cast<PortId>(kVtepPortBase + i));
    rte_spinlock_lock(&add_lock_);
    for (unsigned i : retired) {
        slots_[i].ip.store(0, std::memory_order_release);
        slots_[i].kind.store(kFree, std::memory_order_relaxed);
        learned_.fetch_sub(1, std::memory_order_relaxed);
    }
    rte_spinlock_unlock(&add_lock_);
    return retired.size();
}

}  // namespace dpdock::vxlan
