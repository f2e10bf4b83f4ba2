#include "dataplane/bridge/mac_table.hpp"

#include <algorithm>
#include <tuple>

#include <rte_debug.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

namespace dpdock::bridge {

static_assert(MacTable::kMaxBulk == RTE_HASH_LOOKUP_BULK_MAX);

namespace {

// Network kNoNetwork with the broadcast MAC: a key nobody ever learns.
constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
// Static entries never age: no `now` is ever later than this.
constexpr std::uint64_t kStaticSeen = ~std::uint64_t{0};
constexpr std::uintptr_t kStaticFlag = std::uintptr_t{1} << 16;
// Each attempt loses only to a learn already under way; more than a couple
// means workers are fighting over the MAC at line rate.
constexpr int kStaticWriteAttempts = 16;

using Atomic64 = std::atomic_ref<std::uint64_t>;

bool on_lcore() { return rte_lcore_id() != LCORE_ID_ANY; }

std::uint64_t age(std::uint64_t now, std::uint64_t last_seen) { return now > last_seen ? now - last_seen : 0; }

}  // namespace

// The port and the static flag travel in the hash's data pointer, so a reader
// sees a key together with its port (one release store in rte_hash) and a move
// replaces both at once.
void* MacTable::encode(PortId port, bool is_static) {
    return reinterpret_cast<void*>(std::uintptr_t{port} | (is_static ? kStaticFlag : 0));
}

MacTable::Value MacTable::decode(const void* data) {
    const auto bits = reinterpret_cast<std::uintptr_t>(data);
    return {static_cast<PortId>(bits & 0xffff), (bits & kStaticFlag) != 0};
}

Result<std::unique_ptr<MacTable>> MacTable::create(const MacTableOptions& options) {
    using R = Result<std::unique_ptr<MacTable>>;
    if (options.name.empty() || options.name.size() > kMaxNameLength) {
        return R::error("MAC table name must have 1 to " + std::to_string(kMaxNameLength) + " characters");
    }
    if (options.capacity < kMinCapacity || options.capacity > RTE_HASH_ENTRIES_MAX) {
        return R::error("MAC table capacity " + std::to_string(options.capacity) + " is out of range");
    }
    if (options.qsbr == nullptr) return R::error("MAC table needs the workers' RCU variable");
    if (!on_lcore()) return R::error("MAC table must be created on an EAL or registered thread");

    rte_hash_parameters params{};
    params.name = options.name.c_str();
    params.entries = options.capacity;
    params.key_len = sizeof(std::uint64_t);
    params.hash_func = rte_hash_crc;
    params.socket_id = options.socket_id;
    // EXT_TABLE: cuckoo displacement alone may fail before every bucket slot is
    // used; the extendable buckets guarantee that `capacity` keys always fit.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD | RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
                        RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) {
        return R::error("cannot create MAC table " + options.name + ": " + rte_strerror(rte_errno));
    }
    rte_hash_rcu_config rcu{};
    rcu.v = options.qsbr;
    rcu.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(hash, &rcu) != 0) {
        rte_hash_free(hash);
        return R::error("cannot attach RCU to MAC table " + options.name + ": " + rte_strerror(rte_errno));
    }
    // Positions run from 0 to max_key_id - 1; with MULTI_WRITER_ADD that is
    // more than `capacity` because of the per-lcore free-slot caches.
    const auto n_slots = static_cast<std::uint32_t>(rte_hash_max_key_id(hash));
    auto* slots = static_cast<Slot*>(
        rte_zmalloc_socket("mac_table_slots", sizeof(Slot) * n_slots, RTE_CACHE_LINE_SIZE, options.socket_id));
    if (slots == nullptr) {
        rte_hash_free(hash);
        return R::error("cannot allocate MAC table " + options.name + " positions");
    }
    for (std::uint32_t i = 0; i < n_slots; ++i) slots[i].key = kEmptyKey;
    return std::unique_ptr<MacTable>(new MacTable(hash, slots, n_slots, options));
}

MacTable::MacTable(rte_hash* hash, Slot* slots, std::uint32_t n_slots, const MacTableOptions& options)
    : hash_(hash),
      slots_(slots),
      n_slots_(n_slots),
      capacity_(options.capacity),
      refresh_ticks_(options.refresh_ticks),
      qsbr_(options.qsbr) {}

MacTable::~MacTable() {
    rte_hash_free(hash_);
    rte_free(slots_);
}

LearnResult MacTable::learn(NetworkId network, MacAddress mac, PortId port, std::uint64_t now) {
    const std::uint64_t key = make_key(network, mac);
    Value current;
    const std::int32_t position = find(key, &current);
    if (position >= 0) [[likely]] {
        if (current.is_static) return current.port == port ? LearnResult::Unchanged : LearnResult::StaticConflict;
        if (current.port == port) {
            // Rewrite last_seen at most once per refresh interval, so a busy
            // MAC does not dirty a shared cache line with every frame.
            Atomic64 seen(slots_[position].last_seen);
            const std::uint64_t last = seen.load(std::memory_order_relaxed);
            if (now <= last || now - last < refresh_ticks_) return LearnResult::Unchanged;
            seen.store(now, std::memory_order_relaxed);
            return LearnResult::Refreshed;
        }
    } else if (recorded_.load(std::memory_order_relaxed) >= capacity_) {
        return LearnResult::Full;
    }
    // New key or a move: both go through the hash's writer lock. On an
    // existing key rte_hash only swaps the data pointer (readers see the old or
    // the new port); if the control thread deleted the key meanwhile, this
    // inserts it again and record() accounts for it.
    RTE_VERIFY(on_lcore());
    if (rte_hash_add_key_data(hash_, &key, encode(port, false)) != 0) return LearnResult::Full;
    const bool recorded_now = record(key, now);
    if (position >= 0) return LearnResult::Moved;
    // Another worker inserting the same MAC at the same moment recorded it first.
    return recorded_now ? LearnResult::Learned : LearnResult::Unchanged;
}

void MacTable::lookup_bulk(const std::uint64_t* keys, unsigned n, PortId* ports_out) const {
    const void* key_ptrs[kMaxBulk];
    void* data[kMaxBulk];
    for (unsigned done = 0; done < n; done += kMaxBulk) {
        const unsigned chunk = std::min(kMaxBulk, n - done);
        for (unsigned i = 0; i < chunk; ++i) key_ptrs[i] = &keys[done + i];
        std::uint64_t hits = 0;
        rte_hash_lookup_bulk_data(hash_, key_ptrs, chunk, &hits, data);
        for (unsigned i = 0; i < chunk; ++i) {
            ports_out[done + i] = (hits >> i) & 1 ? decode(data[i]).port : kNoPort;
        }
    }
}

std::int32_t MacTable::find(std::uint64_t key, Value* value) const {
    void* data = nullptr;
    const std::int32_t position = rte_hash_lookup_data(hash_, &key, &data);
    if (position >= 0) *value = decode(data);
    return position;
}

// Records `key` at the position the hash gave it. Returns whether this call
// recorded it (false: already recorded by a concurrent inserter, or deleted
// by the control thread before we got here).
bool MacTable::record(std::uint64_t key, std::uint64_t seen) {
    void* data = nullptr;
    const std::int32_t position = rte_hash_lookup_data(hash_, &key, &data);
    if (position < 0) return false;
    Slot& slot = slots_[position];
    Atomic64(slot.last_seen).store(seen, std::memory_order_relaxed);
    // Release: a sweeper that reads the key also reads this last_seen.
    const std::uint64_t previous = Atomic64(slot.key).exchange(key, std::memory_order_acq_rel);
    // A previous key other than kEmptyKey is a stale record (see forget_stale)
    // that was counted already; replacing it leaves the count unchanged.
    if (previous == kEmptyKey) recorded_.fetch_add(1, std::memory_order_relaxed);
    return previous != key;
}

void MacTable::remove_at(std::uint32_t position, std::uint64_t key) {
    // Unrecord before deleting: once deleted, the position may be reused as
    // soon as the grace period ends, and clearing it then would erase the
    // record of its next key.
    if (Atomic64(slots_[position].key).exchange(kEmptyKey, std::memory_order_acq_rel) != kEmptyKey) {
        recorded_.fetch_sub(1, std::memory_order_relaxed);
    }
    rte_hash_del_key(hash_, &key);
}

// The record at `position` names a key the hash no longer keeps there: a
// worker recorded it after the control thread had deleted it (two workers
// inserting one MAC while a flush removed it). Clear it, unless the key was
// learned into this very position again meanwhile: its learner found the
// stale record equal to its key and did not count it, so put it back.
void MacTable::forget_stale(std::uint32_t position, std::uint64_t key) {
    Atomic64 slot_key(slots_[position].key);
    std::uint64_t expected = key;
    if (!slot_key.compare_exchange_strong(expected, kEmptyKey, std::memory_order_acq_rel)) return;
    recorded_.fetch_sub(1, std::memory_order_relaxed);
    if (rte_hash_lookup(hash_, &key) == static_cast<std::int32_t>(position) &&
        slot_key.exchange(key, std::memory_order_acq_rel) == kEmptyKey) {
        recorded_.fetch_add(1, std::memory_order_relaxed);
    }
}

// Walks the recorded positions. is_candidate(key, last_seen) is a cheap filter
// applied before the hash lookup; should_remove(value) decides on the live entry.
template <typename Candidate, typename Remove>
std::size_t MacTable::sweep(Candidate&& is_candidate, Remove&& should_remove) {
    RTE_VERIFY(on_lcore());
    std::size_t removed = 0;
    for (std::uint32_t p = 0; p < n_slots_; ++p) {
        const std::uint64_t key = Atomic64(slots_[p].key).load(std::memory_order_acquire);
        if (key == kEmptyKey) continue;
        if (!is_candidate(key, Atomic64(slots_[p].last_seen).load(std::memory_order_relaxed))) continue;
        Value value;
        if (find(key, &value) != static_cast<std::int32_t>(p)) {
            forget_stale(p, key);
            continue;
        }
        if (!should_remove(value)) continue;
        remove_at(p, key);
        ++removed;
    }
    return removed;
}

Status MacTable::write_static(std::uint64_t key, PortId port) {
    if (rte_hash_add_key_data(hash_, &key, encode(port, true)) != 0) {
        return Status::error("MAC table is full (" + std::to_string(capacity_) + " entries)");
    }
    record(key, kStaticSeen);
    return {};
}

Status MacTable::add_static(NetworkId network, MacAddress mac, PortId port) {
    if (!on_lcore()) return Status::error("MAC table writes need an EAL or registered thread");
    if (network == kNoNetwork) return Status::error("static MAC " + mac.to_string() + ": no network");
    if (mac.is_multicast() || mac.is_zero()) return Status::error(mac.to_string() + " is not a unicast address");
    if (port == kNoPort) return Status::error("static MAC " + mac.to_string() + ": no port");
    const std::uint64_t key = make_key(network, mac);
    Value value;
    if (find(key, &value) < 0 && recorded_.load(std::memory_order_relaxed) >= capacity_) {
        return Status::error("MAC table is full (" + std::to_string(capacity_) + " entries)");
    }
    // A worker that read the entry before a write may still store it as
    // learned (first learn or move), and others may chain moves off that. A
    // learn ends before its worker's next quiescent state, so once a grace
    // period after our write the entry still reads static, it stays static.
    for (int attempt = 0; attempt < kStaticWriteAttempts; ++attempt) {
        if (auto st = write_static(key, port); !st) return st;
        rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
        if (find(key, &value) >= 0 && value.is_static && value.port == port) return {};
    }
    return Status::error("static MAC " + mac.to_string() + " keeps being overwritten by learning");
}

Status MacTable::remove_static(NetworkId network, MacAddress mac) {
    if (!on_lcore()) return Status::error("MAC table writes need an EAL or registered thread");
    const std::uint64_t key = make_key(network, mac);
    Value value;
    const std::int32_t position = find(key, &value);
    if (position < 0 || !value.is_static) return Status::error("no static entry for " + mac.to_string());
    remove_at(static_cast<std::uint32_t>(position), key);
    return {};
}

std::size_t MacTable::flush_port(PortId port) {
    return sweep([](std::uint64_t, std::uint64_t) { return true; },
                 [port](const Value& value) { return value.port == port; });
}

std::size_t MacTable::flush_network(NetworkId network) {
    return sweep([network](std::uint64_t key, std::uint64_t) { return MacKey::unpack(key).network == network; },
                 [](const Value& value) { return !value.is_static; });
}

std::size_t MacTable::expire(std::uint64_t now, std::uint64_t max_age_ticks) {
    return sweep([now, max_age_ticks](std::uint64_t, std::uint64_t seen) { return age(now, seen) > max_age_ticks; },
                 [](const Value& value) { return !value.is_static; });
}

std::vector<MacEntry> MacTable::dump(std::uint64_t now) const {
    std::vector<MacEntry> entries;
    for (std::uint32_t p = 0; p < n_slots_; ++p) {
        const std::uint64_t key = Atomic64(slots_[p].key).load(std::memory_order_acquire);
        if (key == kEmptyKey) continue;
        const std::uint64_t seen = Atomic64(slots_[p].last_seen).load(std::memory_order_relaxed);
        Value value;
        if (find(key, &value) != static_cast<std::int32_t>(p)) continue;  // stale record
        const MacKey k = MacKey::unpack(key);
        entries.push_back({k.network, k.mac, value.port, value.is_static, value.is_static ? 0 : age(now, seen)});
    }
    std::sort(entries.begin(), entries.end(), [](const MacEntry& a, const MacEntry& b) {
        return std::tie(a.network, a.mac) < std::tie(b.network, b.mac);
    });
    return entries;
}

std::size_t MacTable::size() const {
    return static_cast<std::size_t>(std::max<std::int64_t>(0, recorded_.load(std::memory_order_relaxed)));
}

}  // namespace dpdock::bridge
