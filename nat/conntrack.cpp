#include "nat/conntrack.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <utility>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "nat/port_search.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kMinHashEntries = 8;  // rte_hash's bucket size: smaller tables are refused
// Early drop looks at this many slots for an unassured flow, from where the
// previous one stopped (a clock hand: bounded work per new flow, and over
// time every slot is looked at; Linux's early_drop scans a few buckets).
constexpr std::uint32_t kEarlyDropScan = 64;
// Conntrack::reserve_: capacity / 8, at most kMaxReserve; early drops
// waiting for their grace period: at most kMaxDoomed.
constexpr std::uint32_t kMaxReserve = 1024, kMaxDoomed = 4096;

// A key's data: the entry index times two plus the direction the key matches.
void* encode(std::uint32_t index, Direction dir) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(index) * 2 + static_cast<std::uintptr_t>(dir));
}

}  // namespace

CtState initial_state(std::uint8_t proto, std::uint8_t tcp_flags) {
    if (proto == IPPROTO_UDP) return CtState::UdpUnreplied;
    if (proto != IPPROTO_TCP) return CtState::Icmp;
    if ((tcp_flags & kTcpRst) != 0) return CtState::TcpClose;
    // A flow first seen mid-stream (no SYN) is picked up, as with Linux's
    // nf_conntrack_tcp_loose, but stays in SYN_SENT and its short timeout
    // until the other side answers: anyone can send an ACK.
    return CtState::TcpSynSent;
}

CtState next_state(CtState cur, Direction dir, std::uint8_t flags) {
    switch (cur) {
        case CtState::UdpUnreplied:
            return dir == Direction::Reply ? CtState::UdpAssured : cur;
        case CtState::UdpAssured:
        case CtState::Icmp:
        case CtState::Count:
            return cur;
        default:
            break;
    }
    if ((flags & kTcpRst) != 0) return CtState::TcpClose;
    const bool syn = (flags & kTcpSyn) != 0, ack = (flags & kTcpAck) != 0;
    // A new SYN from the container reopens a closed or closing flow (port reuse).
    if (syn && !ack && dir == Direction::Original) {
        return cur == CtState::TcpEstablished || cur == CtState::TcpSynRecv ? cur : CtState::TcpSynSent;
    }
    if (syn && ack) {
        return cur == CtState::TcpSynSent && dir == Direction::Reply ? CtState::TcpSynRecv : cur;
    }
    if ((flags & kTcpFin) != 0) {
        return cur == CtState::TcpClose || cur == CtState::TcpSynSent ? cur : CtState::TcpFinWait;
    }
    if (ack && cur == CtState::TcpSynRecv && dir == Direction::Original) return CtState::TcpEstablished;
    // A flow picked up mid-stream, answered by the other side (Linux's "valid
    // answer for a picked up connection").
    if (ack && cur == CtState::TcpSynSent && dir == Direction::Reply) return CtState::TcpEstablished;
    return cur;
}

Conntrack::Conntrack(const ConntrackOptions& o)
    : capacity_(o.capacity), reserve_(std::min(o.capacity / 8, kMaxReserve)),
      doomed_size_(std::min(o.capacity, kMaxDoomed)), hz_(o.hz), qsbr_(o.qsbr),
      entries_(std::make_unique<Entry[]>(o.capacity)), port_lo_(o.port_lo), port_hi_(o.port_hi),
      doomed_(std::make_unique<Doomed[]>(doomed_size_)),
      per_source_(o.flows_per_source) {
    const Timeouts& t = o.timeouts;
    const std::array<std::uint32_t, static_cast<std::size_t>(CtState::Count)> seconds = {
        t.tcp_syn_sent, t.tcp_syn_recv, t.tcp_established, t.tcp_fin_wait,
        t.tcp_close,    t.udp_unreplied, t.udp_assured,   t.icmp};
    for (std::size_t i = 0; i < seconds.size(); ++i) ticks_[i] = seconds[i] * o.hz;
}

Result<std::unique_ptr<Conntrack>> Conntrack::create(const ConntrackOptions& o) {
    using R = Result<std::unique_ptr<Conntrack>>;
    if (o.capacity == 0 || o.capacity > (1u << 30)) return R::error("conntrack capacity must be 1..2^30");
    if (o.port_lo == 0 || o.port_lo > o.port_hi) return R::error("conntrack port range is empty");
    if (o.qsbr == nullptr) return R::error("conntrack needs the workers' RCU variable");
    std::unique_ptr<Conntrack> ct(new Conntrack(o));

    rte_hash_parameters params{};
    params.name = o.name.c_str();
    // Two keys per slot (dying entries hold theirs until reclaimed); rte_hash wants at least one bucket's worth.
    params.entries = std::max<std::uint32_t>(o.capacity * 2, kMinHashEntries);
    params.key_len = sizeof(FlowKey);
    params.hash_func = rte_hash_crc;  // with init value 0: hash()
    params.socket_id = o.socket;
    // EXT_TABLE: an add fails only when key slots run out, which the free
    // ring's capacity check rules out. Without an RCU config, LF deletes keep
    // the key slot until free_key_with_position (after a grace period).
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
                        RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    ct->hash_ = rte_hash_create(&params);
    if (ct->hash_ == nullptr) {
        return R::error("cannot create the conntrack table " + o.name + ": " + rte_strerror(rte_errno));
    }
    ct->free_ = rte_ring_create_elem((o.name + "_f").c_str(), sizeof(std::uint32_t), ct->capacity_, o.socket,
                                     RING_F_EXACT_SZ);
    if (ct->free_ == nullptr) {
        return R::error("cannot create the conntrack free list " + o.name + ": " + rte_strerror(rte_errno));
    }
    for (std::uint32_t i = 0; i < ct->capacity_; ++i) rte_ring_enqueue_elem(ct->free_, &i, sizeof i);
    return ct;
}

Conntrack::~Conntrack() {
    rte_ring_free(free_);
    rte_hash_free(hash_);
}

Entry* Conntrack::decode(void* data, Direction& dir) const {
    const auto v = reinterpret_cast<std::uintptr_t>(data);
    dir = static_cast<Direction>(v & 1);
    return &entries_[v / 2];
}

Entry* Conntrack::find(const FlowKey& key, Direction& dir) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(hash_, &key, &data) < 0) return nullptr;
    return decode(data, dir);
}

void Conntrack::find_bulk(const FlowKey* const* keys, std::uint32_t n, Entry** entries, Direction* dirs,
                          const std::uint32_t* hashes) const {
    for (std::uint32_t first = 0; first < n; first += RTE_HASH_LOOKUP_BULK_MAX) {
        const std::uint32_t count = std::min<std::uint32_t>(n - first, RTE_HASH_LOOKUP_BULK_MAX);
        std::uint64_t hits = 0;
        void* data[RTE_HASH_LOOKUP_BULK_MAX];
        // rte_hash takes `const void**` (and non-const signatures); it only reads them.
        const auto key_ptrs = const_cast<const void**>(reinterpret_cast<const void* const*>(keys + first));
        if (hashes != nullptr) {
            rte_hash_lookup_with_hash_bulk_data(hash_, key_ptrs, const_cast<hash_sig_t*>(hashes + first), count,
                                                &hits, data);
        } else {
            rte_hash_lookup_bulk_data(hash_, key_ptrs, count, &hits, data);
        }
        for (std::uint32_t i = 0; i < count; ++i) {
            if ((hits >> i & 1) == 0) {
                entries[first + i] = nullptr;
                continue;
            }
            entries[first + i] = decode(data[i], dirs[first + i]);
            rte_prefetch0(entries[first + i]);
        }
    }
}

bool Conntrack::claim(std::uint32_t index) {
    Life live = Life::Live;
    return entries_[index].life.compare_exchange_strong(live, Life::Dying, std::memory_order_acq_rel);
}

std::array<std::int32_t, 2> Conntrack::delete_keys(std::uint32_t index) {
    const Entry& e = entries_[index];
    std::array<std::int32_t, 2> pos{-1, -1};
    // Only the claimer deletes an entry's keys and nobody overwrites a key, so
    // a key that names this entry now still does when it is deleted.
    auto owned = [&](const FlowKey& key, Direction dir) {
        void* data = nullptr;
        return rte_hash_lookup_data(hash_, &key, &data) >= 0 && data == encode(index, dir);
    };
    if (owned(e.reply, Direction::Reply)) pos[0] = rte_hash_del_key(hash_, &e.reply);
    if (owned(e.original, Direction::Original)) pos[1] = rte_hash_del_key(hash_, &e.original);
    live_.fetch_sub(1, std::memory_order_relaxed);
    return pos;
}

void Conntrack::free_slot(std::uint32_t index, const std::int32_t* pos) {
    for (int k = 0; k < 2; ++k) {
        if (pos[k] >= 0) rte_hash_free_key_with_position(hash_, pos[k]);
    }
    Entry& e = entries_[index];
    if (e.kind == EntryKind::Published) per_source_.give_back(e.original.src_ip);
    e.life.store(Life::Free, std::memory_order_relaxed);
    rte_ring_enqueue_elem(free_, &index, sizeof index);
}

void Conntrack::reclaim_doomed() {
    while (doomed_count_ != 0) {
        const Doomed& d = doomed_[doomed_head_];
        if (rte_rcu_qsbr_check(qsbr_, d.token, false) != 1) return;  // later ones are younger still
        free_slot(d.index, d.pos);
        doomed_head_ = (doomed_head_ + 1) % doomed_size_;
        --doomed_count_;
    }
}

bool Conntrack::early_drop() {
    if (doomed_count_ == doomed_size_) return false;
    for (std::uint32_t k = 0; k < kEarlyDropScan; ++k) {
        const std::uint32_t i = drop_hand_;
        drop_hand_ = drop_hand_ + 1 == capacity_ ? 0 : drop_hand_ + 1;
        const Entry& e = entries_[i];
        if (e.life.load(std::memory_order_acquire) != Life::Live || e.assured.load(std::memory_order_relaxed)) continue;
        if (!claim(i)) continue;
        const auto pos = delete_keys(i);
        // Workers that found the entry before its keys went finish with it before the token passes.
        doomed_[(doomed_head_ + doomed_count_++) % doomed_size_] = {rte_rcu_qsbr_start(qsbr_), i, {pos[0], pos[1]}};
        early_drops_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    return false;
}

std::optional<std::uint32_t> Conntrack::take_slot(DropReason& why) {
    reclaim_doomed();
    // Making room early: the slot comes back a grace period later, so the
    // free list must not be empty by then.
    if (rte_ring_count(free_) <= reserve_) early_drop();
    std::uint32_t index;
    if (rte_ring_dequeue_elem(free_, &index, sizeof index) != 0) {
        why = DropReason::CtFull;
        return std::nullopt;
    }
    live_.fetch_add(1, std::memory_order_relaxed);
    return index;
}

void Conntrack::untake_slot(std::uint32_t index) {
    live_.fetch_sub(1, std::memory_order_relaxed);
    rte_ring_enqueue_elem(free_, &index, sizeof index);
}

bool Conntrack::taken(const FlowKey& original, EntryKind kind, Entry*& existing, DropReason& why) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(hash_, &original, &data) < 0) return false;
    Direction dir = Direction::Original;
    Entry* other = decode(data, dir);
    if (dir == Direction::Original && other->kind == kind) {
        existing = other;
    } else {
        existing = nullptr;
        why = DropReason::CtKeyTaken;
    }
    return true;
}

Entry* Conntrack::create(const FlowKey& original, std::uint32_t host_ip, MacAddress mac, NetworkId network,
                         std::uint8_t tcp_flags, std::uint64_t now, DropReason& why) {
    rte_spinlock_lock(&create_lock_);
    Entry* existing = nullptr;
    if (taken(original, EntryKind::Masquerade, existing, why)) {
        rte_spinlock_unlock(&create_lock_);
        return existing;
    }
    const auto index = take_slot(why);
    if (!index) {
        rte_spinlock_unlock(&create_lock_);
        return nullptr;
    }
    Entry& e = entries_[*index];
    e.original = original;
    e.mac = mac;
    e.network = network;
    e.kind = EntryKind::Masquerade;
    FlowKey translated = original;
    translated.src_ip = host_ip;
    Entry* made = activate(*index, translated, true, tcp_flags, now, why);
    rte_spinlock_unlock(&create_lock_);
    return made;
}

Entry* Conntrack::create_published(const FlowKey& original, std::uint32_t to_ip, std::uint16_t to_port,
                                   std::uint32_t snat_ip, MacAddress reply_mac, NetworkId reply_network,
                                   std::uint8_t tcp_flags, std::uint64_t now, DropReason& why) {
    const bool from_outside = snat_ip == 0;
    rte_spinlock_lock(&create_lock_);
    Entry* existing = nullptr;
    if (taken(original, from_outside ? EntryKind::Published : EntryKind::Hairpin, existing, why)) {
        rte_spinlock_unlock(&create_lock_);
        return existing;
    }
    if (from_outside && !per_source_.take(original.src_ip)) {
        rte_spinlock_unlock(&create_lock_);
        why = DropReason::CtSourceLimit;
        return nullptr;
    }
    const auto index = take_slot(why);
    if (!index) {
        if (from_outside) per_source_.give_back(original.src_ip);
        rte_spinlock_unlock(&create_lock_);
        return nullptr;
    }
    Entry& e = entries_[*index];
    e.original = original;
    e.mac = reply_mac;
    e.network = reply_network;
    // Published entries hold a count of per_source_ until their slot is freed (free_slot()).
    e.kind = from_outside ? EntryKind::Published : EntryKind::Hairpin;
    FlowKey translated = original;
    translated.dst_ip = to_ip;
    translated.dst_port = to_port;
    // Hairpin: the reply must come back to us, so the source is ours, with a host port like MASQUERADE's.
    if (!from_outside) translated.src_ip = snat_ip;
    Entry* made = activate(*index, translated, !from_outside, tcp_flags, now, why);
    // Refused: its count goes back now, unless the entry is live anyway (half made: freed by expire()).
    if (made == nullptr && from_outside && e.life.load(std::memory_order_relaxed) != Life::Live) {
        per_source_.give_back(original.src_ip);
    }
    rte_spinlock_unlock(&create_lock_);
    return made;
}

Entry* Conntrack::activate(std::uint32_t index, FlowKey translated, bool choose_port, std::uint8_t tcp_flags,
                           std::uint64_t now, DropReason& why) {
    Entry& e = entries_[index];
    const CtState s = initial_state(e.original.proto, tcp_flags);
    e.state.store(s, std::memory_order_relaxed);
    e.assured.store(false, std::memory_order_relaxed);
    e.expires.store(now + ticks(s), std::memory_order_relaxed);
    // The port chosen by the container (src port, or its echo id) first; without
    // choose_port it is the only candidate (a published flow keeps the client's).
    PortSearch search(port_lo_, port_hi_, rte_be_to_cpu_16(e.original.src_port),
                      rte_hash_crc(&e.original, sizeof e.original, 0));
    std::optional<std::uint16_t> only = rte_be_to_cpu_16(e.original.src_port);
    auto next_port = [&]() { return choose_port ? search.next() : std::exchange(only, std::nullopt); };
    int added = -ENOENT;  // stays so when every candidate's tuple is taken
    while (auto port = next_port()) {
        translated.src_port = rte_cpu_to_be_16(*port);
        e.reply = translated.reversed();
        if (e.reply == e.original) continue;  // one key cannot name both directions
        const hash_sig_t sig = rte_hash_hash(hash_, &e.reply);
        if (rte_hash_lookup_with_hash(hash_, &e.reply, sig) >= 0) continue;  // another flow holds this tuple
        // The add publishes the entry's fields to readers (release).
        added = rte_hash_add_key_with_hash_data(hash_, &e.reply, sig, encode(index, Direction::Reply));
        break;
    }
    if (added < 0) {
        // No key of this entry was published: its slot goes straight back.
        untake_slot(index);
        why = added == -ENOENT ? DropReason::NatNoPort : DropReason::CtFull;
        return nullptr;
    }
    // From here expire() sees the entry, so a failure below is cleaned up there.
    e.life.store(Life::Live, std::memory_order_release);
    added = rte_hash_add_key_data(hash_, &e.original, encode(index, Direction::Original));
    if (added < 0) {
        // Cannot happen while key slots >= 2 x slots; expire() reclaims the half-made entry.
        e.expires.store(0, std::memory_order_relaxed);
        why = DropReason::CtFull;
        return nullptr;
    }
    return &e;
}

void Conntrack::track(Entry& e, Direction dir, std::uint8_t tcp_flags, std::uint64_t now) const {
    CtState cur = e.state.load(std::memory_order_relaxed);
    CtState next = next_state(cur, dir, tcp_flags);
    while (next != cur && !e.state.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
        next = next_state(cur, dir, tcp_flags);
    }
    // Assured (safe from early drop): TCP once established, others once answered.
    const bool assured = e.original.proto == IPPROTO_TCP ? next == CtState::TcpEstablished : dir == Direction::Reply;
    if (assured && !e.assured.load(std::memory_order_relaxed)) e.assured.store(true, std::memory_order_relaxed);
    // Both directions' workers write here: refresh at most once a second (as
    // MAC learning does), unless the state changed.
    const std::uint64_t deadline = now + ticks(next);
    const std::uint64_t old = e.expires.load(std::memory_order_relaxed);
    if (next != cur || deadline > old + hz_) e.expires.store(deadline, std::memory_order_relaxed);
}

std::uint32_t Conntrack::expire(std::uint64_t now, std::uint32_t max_slots) {
    std::vector<std::uint32_t> claimed;
    const std::uint32_t n = std::min(max_slots, capacity_);
    for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t i = expire_cursor_;
        expire_cursor_ = expire_cursor_ + 1 == capacity_ ? 0 : expire_cursor_ + 1;
        const Entry& e = entries_[i];
        if (e.life.load(std::memory_order_acquire) != Life::Live || e.expires.load(std::memory_order_relaxed) > now) {
            continue;
        }
        if (claim(i)) claimed.push_back(i);
    }
    const std::uint32_t reaped = reap(claimed);
    if (reaped == 0) {
        // Early drops no creator has freed since.
        rte_spinlock_lock(&create_lock_);
        reclaim_doomed();
        rte_spinlock_unlock(&create_lock_);
    }
    return reaped;
}

std::uint32_t Conntrack::reap(const std::vector<std::uint32_t>& claimed) {
    if (claimed.empty()) return 0;
    std::vector<std::array<std::int32_t, 2>> pos;
    pos.reserve(claimed.size());
    for (std::uint32_t i : claimed) pos.push_back(delete_keys(i));
    // A worker that looked an entry up before its keys went may still use it.
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    rte_spinlock_lock(&create_lock_);
    for (std::size_t k = 0; k < claimed.size(); ++k) free_slot(claimed[k], pos[k].data());
    reclaim_doomed();  // the grace period just waited for covers the early drops made before it
    rte_spinlock_unlock(&create_lock_);
    return static_cast<std::uint32_t>(claimed.size());
}

FlowView Conntrack::view(const Entry& e, std::uint64_t now) const {
    const std::uint64_t expires = e.expires.load(std::memory_order_relaxed);
    return {e.original, e.reply, e.state.load(std::memory_order_relaxed), expires > now ? (expires - now) / hz_ : 0};
}

std::uint32_t Conntrack::ports_in_use(std::uint8_t proto) const {
    std::vector<bool> used(std::size_t{port_hi_} + 1);
    std::uint32_t distinct = 0;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
        const Entry& e = entries_[i];
        if (e.life.load(std::memory_order_acquire) != Life::Live || e.original.proto != proto) continue;
        // A published flow keeps the client's port: it holds no host port.
        if (e.kind == EntryKind::Published) continue;
        // The reply key's destination port is the translated source port.
        const std::uint16_t port = rte_be_to_cpu_16(e.reply.dst_port);
        if (port < used.size() && !used[port]) {
            used[port] = true;
            ++distinct;
        }
    }
    return distinct;
}

}  // namespace dpdock::nat
