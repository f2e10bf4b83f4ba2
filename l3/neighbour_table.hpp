// The ARP cache of the uplink: next-hop IPv4 address -> MAC, on one rte_hash.
// What gets in (uplink_stage decides, as Linux with arp_accept=0): an ARP
//   reply from an on-link address this host asked for (solicit()), and fresh
//   information about an address already cached. Unsolicited senders, 0.0.0.0
//   and off-subnet addresses never take a slot, so a flood cannot fill it.
// States by age (now - last confirmation), as Linux's NUD states:
//   < timeout: REACHABLE; < timeout + kStaleProbes x retry: STALE, still used
//   while a re-probe (one ARP request per retry interval, whichever worker
//   sees it due first) asks again; older: expired, reads as a miss, and its
//   slot is freed by the writer (a few slots checked per new entry, every
//   slot when the table is full).
// Writer: only the worker that polls the uplink (every ARP reply arrives
//   there), so the hash has a single writer and needs no writer lock. Readers:
//   every worker, lock-free (RW_CONCURRENCY_LF); freed key slots are reused
//   only after an RCU grace period (rte_hash_rcu_qsbr_add), and a slot's
//   contents are cleared before its key is deleted, so a reader never sees
//   another address's MAC. The solicitation record and the probe times are
//   written by any worker (atomics, no locks).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

struct rte_hash;
struct rte_rcu_qsbr;

namespace dpdock::l3 {

// How many re-probes a STALE entry gets before it expires (Linux's ucast_solicit).
inline constexpr std::uint64_t kStaleProbes = 3;

// The uplink's ARP timing, in ticks (dataplane::UplinkInfo).
struct NeighbourTiming {
    std::uint64_t reachable = 0;  // arp-timeout
    std::uint64_t retry = 0;      // between two requests for one address
    // Age at which an entry stops being used and may be freed.
    std::uint64_t expiry() const { return reachable + kStaleProbes * (retry == 0 ? 1 : retry); }
};

// One entry as `dpdock uplink show` lists it, like `ip neigh`.
struct NeighbourView {
    Ipv4Address ip;
    MacAddress mac;
    std::uint64_t age_ticks = 0;  // since the last confirmation
};

// A usable entry: its MAC, and whether the caller should send a re-probe now.
struct Neighbour {
    MacAddress mac;
    bool probe = false;
};

class NeighbourTable {
public:
    // `qsbr`: the workers' RCU variable, which delays the reuse of freed slots.
    static Result<std::unique_ptr<NeighbourTable>> create(const std::string& name, std::uint32_t capacity, int socket,
                                                          rte_rcu_qsbr* qsbr);
    ~NeighbourTable();
    NeighbourTable(const NeighbourTable&) = delete;
    NeighbourTable& operator=(const NeighbourTable&) = delete;

    // The MAC of `ip` while REACHABLE or STALE; for a STALE entry, `probe` is
    // true for one caller per retry interval. Any worker.
    std::optional<Neighbour> lookup(Ipv4Address ip, std::uint64_t now, const NeighbourTiming& timing);
    // Records that this host asked for `ip` (an ARP request went out), so its
    // reply will be accepted. Any worker; a small fixed record where a
    // colliding address overwrites an older one (its reply then waits for the
    // next request).
    void solicit(Ipv4Address ip);
    // Whether a request for `ip` went out (and no other address took its record since).
    bool solicited(Ipv4Address ip) const;

    // Uplink worker only. Records that `ip` is at `mac` as of `now`, adding it
    // when absent (expired entries make room). False when the table is full.
    bool confirm(Ipv4Address ip, MacAddress mac, std::uint64_t now, const NeighbourTiming& timing);
    // Uplink worker only. Like confirm(), but only for an address already cached.
    bool refresh(Ipv4Address ip, MacAddress mac, std::uint64_t now);

    // Control thread: every entry in the table, stale ones included (their
    // age says so), sorted by address. Walks the slots, not the hash, which
    // rte_hash_iterate would not allow next to a writer.
    std::vector<NeighbourView> dump(std::uint64_t now) const;

private:
    struct Slot {
        std::atomic<std::uint64_t> mac{0};
        std::atomic<std::uint64_t> confirmed{0};  // 0: empty (or being filled, or being freed)
        std::atomic<std::uint64_t> probed{0};     // last re-probe of a STALE entry
        std::atomic<std::uint32_t> ip{0};         // the key (host order), for dump() and freeing
    };
    static constexpr std::size_t kSolicited = 256;   // record of addresses asked for
    static constexpr unsigned kSweepPerAdd = 4;      // slots checked for expiry per new entry

    NeighbourTable(rte_hash* hash, std::size_t slots);
    void store(Slot& slot, std::uint32_t ip, MacAddress mac, std::uint64_t now);
    // Frees up to `count` expired slots' keys, starting at the sweep cursor.
    void sweep(std::size_t count, std::uint64_t now, const NeighbourTiming& timing);
    static std::size_t solicit_index(std::uint32_t ip) { return (ip * 2654435761u) >> 24; }

    rte_hash* hash_;
    std::unique_ptr<Slot[]> slots_;
    std::size_t slot_count_;
    std::size_t sweep_at_ = 0;  // writer only
    std::array<std::atomic<std::uint32_t>, kSolicited> solicited_{};
};

}  // namespace dpdock::l3
