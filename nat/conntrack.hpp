// Connection tracking for MASQUERADE: one entry per flow, reachable from two
// keys on one rte_hash (the original tuple, as the container sent it, and the
// reply tuple, as the answer arrives on the uplink), like OVS's conntrack.
//
// Concurrency (see docs/ARCHITECTURE.md, "Conntrack"):
// - Insert: create()/create_published(), on workers. Creators serialise on
//   create_lock_ (a spinlock, only for new flows): taking a slot, early drop,
//   the port search (a host port is free when no entry holds the translated
//   tuple, like Linux's nf_nat_used_tuple) and adding both keys are one step.
//   A key is added only when absent (rte_hash_add_key_data would silently
//   overwrite another entry's key), so a key, once added, belongs to its entry
//   until that entry deletes it.
// - Delete: an entry's keys are deleted only by whoever moved it from Live to
//   Dying (one CAS): the control thread (expire(), flush()) or a creator that
//   early-drops an unassured flow when `capacity` flows are live (Linux's
//   early_drop), looking at a bounded number of slots from a clock hand. A key is deleted only after checking that it still names its
//   entry.
// - Read: find()/track() on any worker, lock-free (RW_CONCURRENCY_LF); state,
//   deadline and flags are per-entry atomics, so both directions may be on two
//   workers.
// - Reclaim: a deleted entry's key slots and its slot are reused only after an
//   RCU grace period (no worker still holds it): expire()/flush() wait for one;
//   early-dropped entries wait in doomed_ with an rte_rcu_qsbr token and are
//   freed by the next creator or control tick that finds the token passed.
//   Early drop starts while reserve_ slots are still free, so the slots it
//   frees come back before the free list runs dry (no memory beyond capacity).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rte_hash_crc.h>
#include <rte_spinlock.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "nat/source_limit.hpp"
#include "nat/timeouts.hpp"

struct rte_hash;
struct rte_ring;
struct rte_rcu_qsbr;

namespace dpdock::nat {

enum class CtState : std::uint8_t {
    TcpSynSent,
    TcpSynRecv,
    TcpEstablished,
    TcpFinWait,  // a FIN was seen in either direction
    TcpClose,    // reset
    UdpUnreplied,
    UdpAssured,  // a reply was seen
    Icmp,
    Count,
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(CtState::Count)> kCtStateNames = {
    "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE", "UNREPLIED", "ASSURED", "ICMP",
};

enum class Direction : std::uint8_t { Original, Reply };

// TCP flag bits as on the wire (rte_tcp.h's RTE_TCP_*_FLAG).
inline constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// The state a flow moves to when a packet with `tcp_flags` passes in `dir`
// (tcp_flags is ignored for UDP and ICMP). Pure; the first packet of a flow
// is applied to the protocol's initial state (initial_state()).
CtState next_state(CtState cur, Direction dir, std::uint8_t tcp_flags);
CtState initial_state(std::uint8_t proto, std::uint8_t tcp_flags);

// Addresses and ports in wire byte order, exactly as in the headers. ICMP
// echo: the id is the "port" of the side that chose it (the requester), the
// other port is 0, so a request's key reversed is its reply's key.
struct FlowKey {
    std::uint32_t src_ip = 0;
    std::uint32_t dst_ip = 0;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint8_t proto = 0;
    std::uint8_t pad[3] = {};  // always zero: the whole struct is hashed

    FlowKey reversed() const { return {dst_ip, src_ip, dst_port, src_port, proto, {}}; }
    friend bool operator==(const FlowKey&, const FlowKey&) = default;
};
static_assert(sizeof(FlowKey) == 16);

// What an entry translates. Masquerade: the source, to the host address and a
// host port. Published (a published port reached from outside): the
// destination, to the container's address and port. Hairpin (a container
// reaching a published port at the host address): both, the source becoming
// the target network's gateway and a host port.
enum class EntryKind : std::uint8_t { Masquerade, Published, Hairpin };

// An entry slot's life: Free (in the free ring) -> Live (keys added) ->
// Dying (claimed by the one deleting its keys) -> Free after a grace period.
enum class Life : std::uint8_t { Free, Live, Dying };

// One cache line each, so a packet's entry is one miss and one prefetch (find_bulk).
struct alignas(64) Entry {
    FlowKey original;  // as the container sent it
    FlowKey reply;     // as the answer arrives on the uplink: to the host address and host port
    MacAddress mac;    // the container's MAC and network: where replies go
    NetworkId network = kNoNetwork;
    std::atomic<CtState> state{CtState::Icmp};
    std::atomic<Life> life{Life::Free};
    // Like Linux's IPS_ASSURED: TCP reached ESTABLISHED (which needs a reply),
    // UDP or ICMP saw a reply. Early drop takes only unassured flows.
    std::atomic<bool> assured{false};
    // Set by create() and create_published(). For Published and Hairpin, `mac` and `network` say where replies go
    // (kNoNetwork: out of the uplink).
    EntryKind kind = EntryKind::Masquerade;
    std::atomic<std::uint64_t> expires{0};  // TSC; 0 marks an entry that never became whole
};
static_assert(sizeof(Entry) == 64);

struct ConntrackOptions {
    std::string name;                 // prefix of the DPDK objects' names (short: hash names are limited)
    std::uint32_t capacity = 1 << 20; // flows
    std::uint16_t port_lo = 1024;
    std::uint16_t port_hi = 65535;
    Timeouts timeouts;
    // Flows a client outside may have open to published ports at once (connlimit); 0: no limit.
    std::uint32_t flows_per_source = 0;
    std::uint64_t hz = 0;             // TSC ticks per second
    int socket = -1;                  // SOCKET_ID_ANY
    rte_rcu_qsbr* qsbr = nullptr;     // the workers' RCU variable
};

// One flow as `dpdock conntrack` shows it.
struct FlowView {
    FlowKey original;
    FlowKey reply;
    CtState state;
    std::uint64_t seconds_left;
};

class Conntrack {
public:
    static Result<std::unique_ptr<Conntrack>> create(const ConntrackOptions& options);
    ~Conntrack();
    Conntrack(const Conntrack&) = delete;
    Conntrack& operator=(const Conntrack&) = delete;

    // Worker side. The entry `key` belongs to (in either direction), or nullptr.
    Entry* find(const FlowKey& key, Direction& dir) const;
    // find() of n keys at once: entries[i] and dirs[i] for keys[i] (nullptr:
    // no flow). rte_hash's bulk lookup fetches the buckets of up to 64 keys
    // before comparing any, so their cache misses overlap instead of stalling
    // each lookup in turn; the entries found are prefetched as well.
    // With `hashes` (hash() of each key, computed already): not hashed again.
    void find_bulk(const FlowKey* const* keys, std::uint32_t n, Entry** entries, Direction* dirs,
                   const std::uint32_t* hashes = nullptr) const;
    // The table's hash of a key (what find_bulk's `hashes` hold).
    static std::uint32_t hash(const FlowKey& key) { return rte_hash_crc(&key, sizeof key, 0); }
    // A new flow for `original`, translated to `host_ip` and a host port
    // no other flow to the same destination uses (the original source port
    // when it can). When `capacity` flows are live, an unassured one is
    // dropped for it (early drop). nullptr with `why` = CtFull (no slot, no
    // unassured flow near), NatNoPort (PortSearch found no free port for that
    // destination) or CtKeyTaken (`original` is another flow's reply tuple).
    // When `original` is already a flow of the same kind (another worker
    // created it meanwhile), that flow.
    Entry* create(const FlowKey& original, std::uint32_t host_ip, MacAddress mac, NetworkId network,
                  std::uint8_t tcp_flags, std::uint64_t now, DropReason& why);
    // A new flow to a published port: its destination becomes to_ip:to_port
    // (wire order); with snat_ip != 0 (hairpin) its source becomes snat_ip
    // and a host port. Replies go to reply_mac in reply_network (kNoNetwork:
    // the uplink). nullptr with `why` like create(), or CtSourceLimit when
    // the client (not hairpin) has flows_per_source flows already.
    Entry* create_published(const FlowKey& original, std::uint32_t to_ip, std::uint16_t to_port, std::uint32_t snat_ip,
                            MacAddress reply_mac, NetworkId reply_network, std::uint8_t tcp_flags, std::uint64_t now,
                            DropReason& why);
    // A packet of the flow passed in `dir`: state and deadline move on.
    void track(Entry& e, Direction dir, std::uint8_t tcp_flags, std::uint64_t now) const;

    // Control side. Reclaims the entries whose deadline is before `now`
    // among the next `max_slots` slots after where the previous call stopped
    // (a bounded slice per tick, not the whole table), waiting for an RCU
    // grace period when there is any; returns how many.
    std::uint32_t expire(std::uint64_t now, std::uint32_t max_slots = ~std::uint32_t{0});
    // Reclaims every live entry `match` selects (a network or a published
    // rule that went away); returns how many. Scans the whole table.
    template <typename Match>
    std::uint32_t flush(Match&& match) {
        std::vector<std::uint32_t> claimed;
        for (std::uint32_t i = 0; i < capacity_; ++i) {
            if (entries_[i].life.load(std::memory_order_acquire) == Life::Live && match(entries_[i]) && claim(i)) {
                claimed.push_back(i);
            }
        }
        return reap(claimed);
    }
    // Up to `limit` flows `match` selects, in slot order.
    template <typename Match>
    std::vector<FlowView> dump(std::uint64_t now, std::size_t limit, Match&& match) const {
        std::vector<FlowView> out;
        for (std::uint32_t i = 0; i < capacity_ && out.size() < limit; ++i) {
            const Entry& e = entries_[i];
            if (e.life.load(std::memory_order_acquire) != Life::Live || !match(e)) continue;
            out.push_back(view(e, now));
        }
        return out;
    }
    std::vector<FlowView> dump(std::uint64_t now) const {
        return dump(now, ~std::size_t{0}, [](const Entry&) { return true; });
    }
    std::uint32_t capacity() const { return capacity_; }
    std::uint32_t slots() const { return capacity_; }  // what expire() slices walk
    std::uint32_t entries() const { return live_.load(std::memory_order_relaxed); }
    // Unassured flows dropped to make room for new ones, since start.
    std::uint64_t early_drops() const { return early_drops_.load(std::memory_order_relaxed); }
    // Distinct host ports (echo ids) the protocol's flows use; a port shared
    // by flows to several destinations counts once. Scans the table.
    std::uint32_t ports_in_use(std::uint8_t proto) const;

private:
    // An early-dropped entry waiting for its grace period: its slot and key slots.
    struct Doomed {
        std::uint64_t token;
        std::uint32_t index;
        std::int32_t pos[2];
    };

    explicit Conntrack(const ConntrackOptions& options);
    std::uint64_t ticks(CtState s) const { return ticks_[static_cast<std::size_t>(s)]; }
    FlowView view(const Entry& e, std::uint64_t now) const;
    // Live -> Dying; false when someone else claimed it first.
    bool claim(std::uint32_t index);
    // Deletes the keys of a claimed entry that still name it; their positions (or < 0).
    std::array<std::int32_t, 2> delete_keys(std::uint32_t index);
    // Deletes the keys of claimed entries, waits for a grace period, frees them.
    std::uint32_t reap(const std::vector<std::uint32_t>& claimed);
    // Key slots and entry slot back to their free lists (create_lock_ held: the
    // hash's extendable-bucket list has a single producer).
    void free_slot(std::uint32_t index, const std::int32_t* pos);
    // Frees the doomed entries whose grace period has passed (create_lock_ held).
    void reclaim_doomed();
    // Drops one unassured flow among the next kEarlyDropScan slots from
    // drop_hand_ (create_lock_ held); false when there is none. Its slot is
    // free again once its grace period has passed (reclaim_doomed()).
    bool early_drop();
    // The entry and direction a key's data (encode()) names.
    Entry* decode(void* data, Direction& dir) const;
    // A free entry index, counted live (create_lock_ held), after an early
    // drop when reserve_ slots or fewer were free; nullopt with `why` =
    // CtFull when none is free.
    std::optional<std::uint32_t> take_slot(DropReason& why);
    // Whether `original` is a key already (create_lock_ held): keys are never
    // overwritten. `existing`: the flow, when it is that of a flow of `kind`
    // (another worker created it since this one's lookup), else nullptr with
    // `why` = CtKeyTaken (another flow's reply tuple).
    bool taken(const FlowKey& original, EntryKind kind, Entry*& existing, DropReason& why) const;
    // A slot take_slot() gave that got no keys goes straight back (create_lock_ held).
    void untake_slot(std::uint32_t index);
    // Entry `index` (original, mac, network, kind filled in) becomes live:
    // state and deadline from its first packet, then both keys. Its reply is
    // `translated` reversed, with the source port PortSearch finds free for
    // that tuple when choose_port, else the original source port (NatNoPort
    // when that tuple is taken).
    Entry* activate(std::uint32_t index, FlowKey translated, bool choose_port, std::uint8_t tcp_flags,
                    std::uint64_t now, DropReason& why);

    std::uint32_t capacity_;  // entry slots: live, early-dropped or being reclaimed flows
    // Early drop starts when no more slots than this are free: about a
    // burst per worker, what is taken before a grace period can pass.
    std::uint32_t reserve_;
    std::uint32_t doomed_size_;  // places in doomed_
    std::uint64_t hz_;
    rte_rcu_qsbr* qsbr_;
    std::array<std::uint64_t, static_cast<std::size_t>(CtState::Count)> ticks_{};
    rte_hash* hash_ = nullptr;
    rte_ring* free_ = nullptr;  // indices of unused entries
    std::unique_ptr<Entry[]> entries_;
    std::uint16_t port_lo_, port_hi_;
    rte_spinlock_t create_lock_ = RTE_SPINLOCK_INITIALIZER;
    std::atomic<std::uint32_t> live_{0};  // entries in Live: changed under create_lock_ or by the control thread
    std::atomic<std::uint64_t> early_drops_{0};
    std::uint32_t expire_cursor_ = 0;  // control thread: where the next expire() slice starts
    // Under create_lock_: early-dropped entries in drop order (so in token
    // order), a ring of doomed_size_ places, and the per-source counts.
    std::unique_ptr<Doomed[]> doomed_;
    std::uint32_t doomed_head_ = 0, doomed_count_ = 0;
    std::uint32_t drop_hand_ = 0;
    SourceLimit per_source_;
};

}  // namespace dpdock::nat
