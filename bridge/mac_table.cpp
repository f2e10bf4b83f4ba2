#include "bridge/mac_table.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include <rte_debug.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

namespace dpdock::bridge {

static_assert(MacTable::kMaxBulk == RTE_HASH_LOOKUP_BULK_MAX);

namespace {

// Network kNoNetwork with the broadcast MAC: a key nobody ever learns.
constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
// Static entries never age: no `now` is ever later than this.
constexpr std::uint64_t kStaticSeen = ~std::uint64_t{0};
constexpr std::uintptr_t kStaticFlag = std::uintptr_t{1} << 16;
constexpr std::uintptr_t kPositionFlag = std::uintptr_t{1} << 17;  // bits 32..63 hold the key position
static_assert(sizeof(std::uintptr_t) == 8, "the data pointer carries a 32-bit position");
// Each attempt loses only to a learn already under way; more than a couple
// means workers are fighting over the MAC at line rate.
constexpr int kStaticWriteAttempts = 16;

using Atomic64 = std::atomic_ref<std::uint64_t>;

bool on_lcore() { return rte_lcore_id() != LCORE_ID_ANY; }

std::uint64_t age(std::uint64_t now, std::uint64_t last_seen) { return now > last_seen ? now - last_seen : 0; }

// The key is one uint64_t: hash and compare it as one word instead of through
// rte_hash's length-generic CRC loop and memcmp. Same hash value as rte_hash_crc.
std::uint32_t hash_key(const void* key, std::uint32_t, std::uint32_t init) {
    std::uint64_t k;
    std::memcpy(&k, key, sizeof k);
    return rte_hash_crc_8byte(k, init);
}

int key_differs(const void* a, const void* b, std::size_t) {
    std::uint64_t x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return x != y;
}

// One lookup per run of equal keys (and equal ports, when given): a burst of
// one flow, or from one container, needs a single lookup. Fills key_ptrs with
// the first key of each run and lookup_of[i] with the run of key i; returns
// the number of runs.
unsigned gather_runs(const std::uint64_t* keys, const PortId* ports, unsigned n, const void** key_ptrs,
                     std::uint8_t* lookup_of) {
    unsigned runs = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (i == 0 || keys[i] != keys[i - 1] || (ports != nullptr && ports[i] != ports[i - 1])) {
            key_ptrs[runs++] = &keys[i];
        }
        lookup_of[i] = static_cast<std::uint8_t>(runs - 1);
    }
    return runs;
}

}  // namespace

// The port, the static flag and (learned entries) the key position travel in
// the hash's data pointer, so a reader sees a key together with its port (one
// release store in rte_hash) and a move replaces them at once.
void* MacTable::encode(PortId port, bool is_static, std::uint32_t position) {
    const std::uintptr_t where = position == kNoPosition ? 0 : std::uintptr_t{position} << 32 | kPositionFlag;
    return reinterpret_cast<void*>(std::uintptr_t{port} | (is_static ? kStaticFlag : 0) | where);
}

MacTable::Value MacTable::decode(const void* data) {
    const auto bits = reinterpret_cast<std::uintptr_t>(data);
    return {static_cast<PortId>(bits & 0xffff), (bits & kStaticFlag) != 0,
            (bits & kPositionFlag) != 0 ? static_cast<std::uint32_t>(bits >> 32) : kNoPosition};
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
    params.hash_func = hash_key;
    params.socket_id = options.socket_id;
    // EXT_TABLE: cuckoo displacement alone may fail before every bucket slot is
    // used; the extendable buckets guarantee that `capacity` keys always fit.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD | RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
                        RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) {
        return R::error("cannot create MAC table " + options.name + ": " + rte_strerror(rte_errno));
    }
    rte_hash_set_cmp_func(hash, key_differs);
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
    return learn_key(make_key(network, mac), port, now);
}

// Rewrite last_seen at most once per refresh interval, so a busy MAC does not
// dirty a shared cache line with every frame.
// *due: until when the key needs no refresh (MacCache keeps it).
LearnResult MacTable::refresh(Slot& slot, std::uint64_t now, std::uint64_t* due) const {
    Atomic64 seen(slot.last_seen);
    const std::uint64_t last = seen.load(std::memory_order_relaxed);
    if (now <= last || now - last < refresh_ticks_) {
        if (due != nullptr) *due = last + refresh_ticks_;
        return LearnResult::Unchanged;
    }
    seen.store(now, std::memory_order_relaxed);
    if (due != nullptr) *due = now + refresh_ticks_;
    return LearnResult::Refreshed;
}

// Every change of a key's presence or data goes through here or remove_at(),
// which bump the generation after the hash published it (MacCache).
int MacTable::write(std::uint64_t key, void* data) {
    const int rc = rte_hash_add_key_data(hash_, &key, data);
    generation_.fetch_add(1, std::memory_order_release);
    return rc;
}

LearnResult MacTable::learn_key(std::uint64_t key, PortId port, std::uint64_t now) {
    Value current;
    const std::int32_t position = find(key, &current);
    if (position >= 0) [[likely]] {
        if (current.is_static) return current.port == port ? LearnResult::Unchanged : LearnResult::StaticConflict;
        if (current.port == port) {
            // Data without this position: another worker between its insert
            // and its second write, or a delete and re-insert raced. Point it
            // here so learn_bulk() can refresh without this lookup.
            if (current.position != static_cast<std::uint32_t>(position)) {
                RTE_VERIFY(on_lcore());
                write(key, encode(port, false, static_cast<std::uint32_t>(position)));
            }
            return refresh(slots_[position], now);
        }
    } else if (recorded_.load(std::memory_order_relaxed) >= capacity_) {
        return LearnResult::Full;
    }
    // New key or a move: both go through the hash's writer lock. On an
    // existing key rte_hash only swaps the data pointer (readers see the old or
    // the new port); if the control thread deleted the key meanwhile, this
    // inserts it again and record() accounts for it. A new key's position is
    // known only after the insert, hence the second write.
    RTE_VERIFY(on_lcore());
    const std::uint32_t written = position >= 0 ? static_cast<std::uint32_t>(position) : kNoPosition;
    if (write(key, encode(port, false, written)) != 0) return LearnResult::Full;
    bool recorded_now = false;
    const std::int32_t recorded_at = record(key, now, &recorded_now);
    if (recorded_at >= 0 && static_cast<std::uint32_t>(recorded_at) != written) {
        write(key, encode(port, false, static_cast<std::uint32_t>(recorded_at)));
    }
    if (position >= 0) return LearnResult::Moved;
    // Another worker inserting the same MAC at the same moment recorded it first.
    return recorded_now ? LearnResult::Learned : LearnResult::Unchanged;
}

void MacTable::learn_bulk(const std::uint64_t* keys, const PortId* ports, unsigned n, std::uint64_t now,
                          LearnTally& tally, std::uint64_t* due) {
    const void* key_ptrs[kMaxBulk];
    void* data[kMaxBulk];
    std::uint8_t lookup_of[kMaxBulk];  // which lookup answers source i
    for (unsigned done = 0; done < n; done += kMaxBulk) {
        const unsigned chunk = std::min(kMaxBulk, n - done);
        // The repeats in a run have the same key, port and time as its first.
        const unsigned lookups = gather_runs(keys + done, ports + done, chunk, key_ptrs, lookup_of);
        std::uint64_t hits = 0;
        rte_hash_lookup_bulk_data(hash_, key_ptrs, lookups, &hits, data);
        // Prefetch the slots to refresh before using any: with large tables
        // each one is a cache miss, and this way they overlap.
        for (unsigned j = 0; j < lookups; ++j) {
            const auto bits = reinterpret_cast<std::uintptr_t>(data[j]);
            if ((hits >> j & 1) != 0 && (bits & kPositionFlag) != 0) rte_prefetch0(&slots_[bits >> 32]);
        }
        LearnResult result = LearnResult::Unchanged;
        std::uint64_t run_due = 0;
        // Once this chunk inserted or moved a source, later answers of the
        // bulk lookup may be stale (the same MAC back on another port): the
        // rest of the chunk looks up afresh. Rare outside learning bursts.
        bool wrote = false;
        for (unsigned i = 0; i < chunk; ++i) {
            const unsigned j = lookup_of[i];
            if (i > 0 && j == lookup_of[i - 1]) {
                // A repeat: learned, moved or refreshed by the first of its run.
                const bool still = result == LearnResult::Full || result == LearnResult::StaticConflict;
                tally.add(still ? result : LearnResult::Unchanged);
                if (due != nullptr) due[done + i] = run_due;
                continue;
            }
            run_due = 0;
            if (wrote) {
                result = learn_key(keys[done + i], ports[done + i], now);
                if (result == LearnResult::Learned || result == LearnResult::Moved) run_due = now + refresh_ticks_;
            } else {
                result = learn_looked_up(keys[done + i], ports[done + i], now, (hits >> j & 1) != 0, data[j], run_due);
            }
            if (due != nullptr) due[done + i] = run_due;
            wrote = wrote || result == LearnResult::Learned || result == LearnResult::Moved;
            tally.add(result);
        }
    }
}

// learn_key() after a lookup already done: known sources on their own port
// (the common case) are refreshed here, the rest take learn_key(). `due` as
// in learn_bulk().
LearnResult MacTable::learn_looked_up(std::uint64_t key, PortId port, std::uint64_t now, bool hit, const void* data,
                                      std::uint64_t& due) {
    const Value v = hit ? decode(data) : Value{};
    if (hit && v.is_static) {
        if (v.port != port) return LearnResult::StaticConflict;
        due = kStaticSeen;  // a static entry on its own port never needs a refresh
        return LearnResult::Unchanged;
    }
    if (hit && v.port == port && v.position != kNoPosition) [[likely]] {
        // The record confirms the position still holds this key; if a sweep
        // is deleting it right now, the refresh is lost with it (benign).
        Slot& slot = slots_[v.position];
        if (Atomic64(slot.key).load(std::memory_order_relaxed) == key) return refresh(slot, now, &due);
    }
    const LearnResult result = learn_key(key, port, now);
    if (result == LearnResult::Learned || result == LearnResult::Moved) due = now + refresh_ticks_;
    return result;
}

void MacTable::lookup_bulk(const std::uint64_t* keys, unsigned n, PortId* ports_out) const {
    const void* key_ptrs[kMaxBulk];
    void* data[kMaxBulk];
    std::uint8_t lookup_of[kMaxBulk];
    for (unsigned done = 0; done < n; done += kMaxBulk) {
        const unsigned chunk = std::min(kMaxBulk, n - done);
        const unsigned lookups = gather_runs(keys + done, nullptr, chunk, key_ptrs, lookup_of);
        std::uint64_t hits = 0;
        rte_hash_lookup_bulk_data(hash_, key_ptrs, lookups, &hits, data);
        for (unsigned i = 0; i < chunk; ++i) {
            const unsigned j = lookup_of[i];
            ports_out[done + i] = (hits >> j) & 1 ? decode(data[j]).port : kNoPort;
        }
    }
}

std::int32_t MacTable::find(std::uint64_t key, Value* value) const {
    void* data = nullptr;
    const std::int32_t position = rte_hash_lookup_data(hash_, &key, &data);
    if (position >= 0) *value = decode(data);
    return position;
}

// Records `key` at the position the hash gave it and returns that position
// (negative: deleted by the control thread before we got here).
// *recorded_now tells whether this call recorded it (false also when a
// concurrent inserter already had).
std::int32_t MacTable::record(std::uint64_t key, std::uint64_t seen, bool* recorded_now) {
    void* data = nullptr;
    const std::int32_t position = rte_hash_lookup_data(hash_, &key, &data);
    if (position < 0) return position;
    Slot& slot = slots_[position];
    Atomic64(slot.last_seen).store(seen, std::memory_order_relaxed);
    // Release: a sweeper that reads the key also reads this last_seen.
    const std::uint64_t previous = Atomic64(slot.key).exchange(key, std::memory_order_acq_rel);
    // A previous key other than kEmptyKey is a stale record (see forget_stale)
    // that was counted already; replacing it leaves the count unchanged.
    if (previous == kEmptyKey) recorded_.fetch_add(1, std::memory_order_relaxed);
    if (recorded_now != nullptr) *recorded_now = previous != key;
    return position;
}

void MacTable::remove_at(std::uint32_t position, std::uint64_t key) {
    // Unrecord before deleting: once deleted, the position may be reused as
    // soon as the grace period ends, and clearing it then would erase the
    // record of its next key.
    if (Atomic64(slots_[position].key).exchange(kEmptyKey, std::memory_order_acq_rel) != kEmptyKey) {
        recorded_.fetch_sub(1, std::memory_order_relaxed);
    }
    rte_hash_del_key(hash_, &key);
    generation_.fetch_add(1, std::memory_order_release);
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
    if (write(key, encode(port, true)) != 0) {
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

std::size_t MacTable::flush_port_in_network(PortId port, NetworkId network) {
    return sweep([network](std::uint64_t key, std::uint64_t) { return MacKey::unpack(key).network == network; },
                 [port](const Value& value) { return !value.is_static && value.port == port; });
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
