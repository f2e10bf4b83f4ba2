// The FDB: (network, MAC) -> port, on one rte_hash shared by all workers.
// Inserts: worker lcores learn source MACs; the control thread adds statics.
//   Several writers insert into one rte_hash, so it is created with
//   MULTI_WRITER_ADD + RW_CONCURRENCY_LF: inserting a NEW key (and the rare MAC
//   move, an in-place data update) takes the hash's internal writer lock, which
//   control-side deletes hold one key at a time. That lock is the one documented
//   exception to "workers never block"; lookups and refreshes never take it.
// Deletes: only the control thread (remove_static, flush_*, expire).
// Reads: workers (learn, learn_bulk, lookup_bulk) lock-free; the control
//   thread (dump). A learned entry's data also names its key position, so the
//   bulk learn of a known source (the common case) refreshes last-seen without
//   a second lookup; a position that does not match (a race with a delete and
//   re-insert) only sends that source down the single-key path, which repairs it.
// Generation: bumped by every write (insert, move, delete), so workers can
//   cache answers (bridge/fastpath/mac_cache.hpp) and see any change.
// Reclaim: a deleted key slot goes to rte_hash's QSBR defer queue and is reused
//   only after every reader registered in the qsbr passed a quiescent state.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

struct rte_hash;

namespace dpdock::bridge {

// The hash key: network in the top 16 bits, the MAC (first octet most
// significant) in the low 48. One uint64_t, so there are no padding bytes to hash.
struct MacKey {
    NetworkId network = kNoNetwork;
    MacAddress mac;

    static constexpr std::uint64_t kMacMask = (std::uint64_t{1} << 48) - 1;

    constexpr std::uint64_t packed() const { return pack(network, mac.to_u64()); }
    // `mac_bits`: a MAC as MacAddress::to_u64() spells it (48 bits).
    static constexpr std::uint64_t pack(NetworkId network, std::uint64_t mac_bits) {
        return std::uint64_t{network} << 48 | mac_bits;
    }
    static constexpr MacKey unpack(std::uint64_t key) {
        return {static_cast<NetworkId>(key >> 48), MacAddress::from_u64(key & kMacMask)};
    }
};
static_assert(sizeof(NetworkId) * 8 + 48 == 64, "network id and MAC must fill exactly one uint64_t");
static_assert(MacKey::unpack(MacKey{0x1234, MacAddress({1, 2, 3, 4, 5, 6})}.packed()).network == 0x1234);
static_assert(MacKey::unpack(MacKey{0x1234, MacAddress({1, 2, 3, 4, 5, 6})}.packed()).mac ==
              MacAddress({1, 2, 3, 4, 5, 6}));

struct MacTableOptions {
    std::string name;          // unique per process, at most kMaxNameLength characters
    std::uint32_t capacity;    // learned + static entries, all networks together
    std::uint64_t refresh_ticks;  // a hit rewrites last-seen at most this often (1 s of TSC)
    int socket_id;
    rte_rcu_qsbr* qsbr;        // the workers' RCU domain; outlives the table
};

enum class LearnResult { Unchanged, Refreshed, Learned, Moved, StaticConflict, Full };

// What one learn_bulk() did that workers count (Unchanged/Refreshed are not counted).
struct LearnTally {
    std::uint32_t learned = 0;
    std::uint32_t moved = 0;
    std::uint32_t full = 0;
    std::uint32_t static_conflict = 0;

    void add(LearnResult result) {
        switch (result) {
            case LearnResult::Learned: ++learned; break;
            case LearnResult::Moved: ++moved; break;
            case LearnResult::Full: ++full; break;
            case LearnResult::StaticConflict: ++static_conflict; break;
            case LearnResult::Unchanged:
            case LearnResult::Refreshed: break;
        }
    }
};

struct MacEntry {
    NetworkId network;
    MacAddress mac;
    PortId port;
    bool is_static;
    std::uint64_t age_ticks;  // 0 for static entries
};

// Threads: every method that writes (learn, add_static, remove_static, flush_*,
// expire, the destructor) must run on an EAL lcore or a thread that called
// rte_thread_register(): rte_hash keeps per-lcore free-slot caches. learn() and
// lookup_bulk() callers must be online readers of `qsbr`. Control-side methods
// are not reentrant with each other (one control thread).
class MacTable {
public:
    static constexpr std::size_t kMaxNameLength = 19;  // rte_hash derives ring names from it
    static constexpr unsigned kMaxBulk = 64;           // RTE_HASH_LOOKUP_BULK_MAX
    static constexpr std::uint32_t kMinCapacity = 8;   // one rte_hash bucket

    static Result<std::unique_ptr<MacTable>> create(const MacTableOptions& options);
    ~MacTable();
    MacTable(const MacTable&) = delete;
    MacTable& operator=(const MacTable&) = delete;

    static constexpr std::uint64_t make_key(NetworkId network, MacAddress mac) {
        return MacKey{network, mac}.packed();
    }

    // --- workers ---
    // `mac` must be unicast and `network` a real network (the bridge stage drops
    // group source addresses before learning). Full means capacity is reached:
    // the frame is still forwarded, only its source is not remembered. The
    // capacity is soft by at most the number of workers inserting at once.
    LearnResult learn(NetworkId network, MacAddress mac, PortId port, std::uint64_t now);
    // learn() for n sources at once: keys[i] (make_key) seen on ports[i]. One
    // rte_hash_lookup_bulk_data per kMaxBulk keys (one per run of equal
    // sources); sources that are new, moved or mid-update take learn()'s path.
    // Same rules and counts as n learn() calls. With `due`, due[i] says until
    // when source i on ports[i] needs no learn() (last-seen fresh, or static on
    // its own port: ~0), or 0 when it must keep going through the table.
    void learn_bulk(const std::uint64_t* keys, const PortId* ports, unsigned n, std::uint64_t now,
                    LearnTally& tally, std::uint64_t* due = nullptr);
    // One rte_hash_lookup_bulk_data per kMaxBulk keys (one lookup per run of
    // equal keys). A miss yields kNoPort.
    void lookup_bulk(const std::uint64_t* keys, unsigned n, PortId* ports_out) const;

    // Changes with every insert, move and delete of a key (workers' learning
    // and the control thread's writes alike), after the hash shows the change:
    // an answer read after seeing generation G stays true while the
    // generation is G (bridge/fastpath/mac_cache.hpp). Starts at 1.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // --- control thread ---
    // Adds or converts to static (a learned entry of the same MAC becomes static).
    // Waits for an RCU grace period (usually one), so a worker's concurrent
    // learn cannot leave the entry learned; the workers must be reporting.
    Status add_static(NetworkId network, MacAddress mac, PortId port);
    Status remove_static(NetworkId network, MacAddress mac);
    // Removes every entry on `port`, static ones included. Call after the port
    // left the published snapshot, so no worker learns on it any more.
    std::size_t flush_port(PortId port);
    std::size_t flush_network(NetworkId network);  // learned entries only
    // Learned entries of `network` on `port` (a VTEP that stopped being a peer).
    std::size_t flush_port_in_network(PortId port, NetworkId network);
    // Removes learned entries not seen for more than max_age_ticks. A worker may
    // be refreshing one of them at that moment; the entry is then simply
    // learned again from the next frame (flooded meanwhile). Benign by design.
    std::size_t expire(std::uint64_t now, std::uint64_t max_age_ticks);
    // flush_*, expire and dump walk every key position (capacity plus the
    // lcore caches' slack, ~8k): about a millisecond per million entries.
    std::vector<MacEntry> dump(std::uint64_t now) const;  // sorted by network, MAC

    // Entries, static ones included; in rare races also a stale record that
    // the next sweep drops.
    std::size_t size() const;
    std::uint32_t capacity() const { return capacity_; }

private:
    // Per key position (the index rte_hash returns): which key holds it and
    // when that key was last seen. rte_hash_iterate is unsafe against
    // concurrent writers, so control-side scans walk these instead.
    // key: set by whoever inserted (worker or control) right after the insert,
    // cleared only by the control thread, before it deletes. last_seen: set by
    // workers (learn, refresh, move) and by add_static. All access is atomic.
    struct Slot {
        std::uint64_t key;        // kEmptyKey when no key is recorded
        std::uint64_t last_seen;  // TSC; kStaticSeen for static entries
    };
    static constexpr std::uint32_t kNoPosition = ~std::uint32_t{0};
    struct Value {
        PortId port = kNoPort;
        bool is_static = false;
        std::uint32_t position = kNoPosition;  // learned entries: their key position, once known
    };
    static void* encode(PortId port, bool is_static, std::uint32_t position = kNoPosition);
    static Value decode(const void* data);

    MacTable(rte_hash* hash, Slot* slots, std::uint32_t n_slots, const MacTableOptions& options);

    LearnResult learn_key(std::uint64_t key, PortId port, std::uint64_t now);
    LearnResult learn_looked_up(std::uint64_t key, PortId port, std::uint64_t now, bool hit, const void* data,
                                std::uint64_t& due);
    LearnResult refresh(Slot& slot, std::uint64_t now, std::uint64_t* due = nullptr) const;
    int write(std::uint64_t key, void* data);
    std::int32_t record(std::uint64_t key, std::uint64_t seen, bool* recorded_now = nullptr);
    std::int32_t find(std::uint64_t key, Value* value) const;
    void remove_at(std::uint32_t position, std::uint64_t key);
    void forget_stale(std::uint32_t position, std::uint64_t key);
    Status write_static(std::uint64_t key, PortId port);
    template <typename Candidate, typename Remove>
    std::size_t sweep(Candidate&& is_candidate, Remove&& should_remove);

    // Read by workers on every call; written once at creation.
    rte_hash* hash_;
    Slot* slots_;
    std::uint32_t n_slots_;
    std::uint32_t capacity_;
    std::uint64_t refresh_ticks_;
    rte_rcu_qsbr* qsbr_;
    // Number of recorded slots; written by workers only when they insert, so it
    // gets its own cache line instead of dirtying the one above.
    alignas(RTE_CACHE_LINE_SIZE) std::atomic<std::int64_t> recorded_{0};
    std::atomic<std::uint64_t> generation_{1};  // written with recorded_'s changes, read once per burst
};

}  // namespace dpdock::bridge
