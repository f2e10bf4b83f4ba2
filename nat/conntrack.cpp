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

// A key's data: the entry index times two plus the direction the key matches.
void* encode(std::uint32_t index, Direction dir) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(index) * 2 + static_cast<std::uintptr_t>(dir));
}

}  // namespace

CtState initial_state(std::uint8_t proto, std::uint8_t tcp_flags) {
    if (proto == IPPROTO_UDP) return CtState::UdpUnreplied;
    if (proto != IPPROTO_TCP) return CtState::Icmp;
    if ((tcp_flags & kTcpRst) != 0) return CtState::TcpClose;
    // Like nf_conntrack_tcp_loose: a flow first seen mid-stream is taken as established.
    return (tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn ? CtState::TcpSynSent : CtState::TcpEstablished;
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
    return cur;
}

Conntrack::Conntrack(const ConntrackOptions& o)
    : capacity_(o.capacity), hz_(o.hz), qsbr_(o.qsbr), entries_(std::make_unique<Entry[]>(o.capacity)),
      port_lo_(o.port_lo), port_hi_(o.port_hi) {
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
    // Two keys per flow; rte_hash wants at least one bucket's worth.
    params.entries = std::max<std::uint32_t>(o.capacity * 2, kMinHashEntries);
    params.key_len = sizeof(FlowKey);
    params.hash_func = rte_hash_crc;
    params.socket_id = o.socket;
    // EXT_TABLE: an add fails only when key slots run out, which the free
    // ring's capacity check rules out. Without an RCU config, LF deletes keep
    // the key slot until free_key_with_position (expire() does that after a grace period).
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
                        RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    ct->hash_ = rte_hash_create(&params);
    if (ct->hash_ == nullptr) {
        return R::error("cannot create the conntrack table " + o.name + ": " + rte_strerror(rte_errno));
    }
    ct->free_ = rte_ring_create_elem((o.name + "_f").c_str(), sizeof(std::uint32_t), o.capacity, o.socket,
                                     RING_F_EXACT_SZ);
    if (ct->free_ == nullptr) {
        return R::error("cannot create the conntrack free list " + o.name + ": " + rte_strerror(rte_errno));
    }
    for (std::uint32_t i = 0; i < o.capacity; ++i) rte_ring_enqueue_elem(ct->free_, &i, sizeof i);
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

void Conntrack::find_bulk(const FlowKey* const* keys, std::uint32_t n, Entry** entries, Direction* dirs) const {
    for (std::uint32_t first = 0; first < n; first += RTE_HASH_LOOKUP_BULK_MAX) {
        const std::uint32_t count = std::min<std::uint32_t>(n - first, RTE_HASH_LOOKUP_BULK_MAX);
        std::uint64_t hits = 0;
        void* data[RTE_HASH_LOOKUP_BULK_MAX];
        // rte_hash takes `const void**`; it only reads the keys.
        rte_hash_lookup_bulk_data(hash_, const_cast<const void**>(reinterpret_cast<const void* const*>(keys + first)),
                                  count, &hits, data);
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

std::optional<std::uint32_t> Conntrack::take_slot(DropReason& why) {
    std::uint32_t index;
    if (rte_ring_dequeue_elem(free_, &index, sizeof index) != 0) {
        why = DropReason::CtFull;
        return std::nullopt;
    }
    return index;
}

Entry* Conntrack::create(const FlowKey& original, std::uint32_t host_ip, MacAddress mac, NetworkId network,
                         std::uint8_t tcp_flags, std::uint64_t now, DropReason& why) {
    const auto index = take_slot(why);
    if (!index) return nullptr;
    Entry& e = entries_[*index];
    e.original = original;
    e.mac = mac;
    e.network = network;
    e.kind = EntryKind::Masquerade;
    FlowKey translated = original;
    translated.src_ip = host_ip;
    return activate(*index, translated, true, tcp_flags, now, why);
}

Entry* Conntrack::create_published(const FlowKey& original, std::uint32_t to_ip, std::uint16_t to_port,
                                   std::uint32_t snat_ip, MacAddress reply_mac, NetworkId reply_network,
                                   std::uint8_t tcp_flags, std::uint64_t now, DropReason& why) {
    const auto index = take_slot(why);
    if (!index) return nullptr;
    Entry& e = entries_[*index];
    e.original = original;
    e.mac = reply_mac;
    e.network = reply_network;
    e.kind = snat_ip != 0 ? EntryKind::Hairpin : EntryKind::Published;
    FlowKey translated = original;
    translated.dst_ip = to_ip;
    translated.dst_port = to_port;
    // Hairpin: the reply must come back to us, so the source is ours, with a host port like MASQUERADE's.
    if (snat_ip != 0) translated.src_ip = snat_ip;
    return activate(*index, translated, snat_ip != 0, tcp_flags, now, why);
}

Entry* Conntrack::activate(std::uint32_t index, FlowKey translated, bool choose_port, std::uint8_t tcp_flags,
                           std::uint64_t now, DropReason& why) {
    Entry& e = entries_[index];
    const CtState s = initial_state(e.original.proto, tcp_flags);
    e.state.store(s, std::memory_order_relaxed);
    e.expires.store(now + ticks(s), std::memory_order_relaxed);
    // The port chosen by the container (src port, or its echo id) first; without
    // choose_port it is the only candidate (a published flow keeps the client's).
    PortSearch search(port_lo_, port_hi_, rte_be_to_cpu_16(e.original.src_port),
                      rte_hash_crc(&e.original, sizeof e.original, 0));
    std::optional<std::uint16_t> only = rte_be_to_cpu_16(e.original.src_port);
    auto next_port = [&]() { return choose_port ? search.next() : std::exchange(only, std::nullopt); };
    int added = -ENOENT;  // stays so when every candidate's tuple is taken
    rte_spinlock_lock(&create_lock_);
    while (auto port = next_port()) {
        translated.src_port = rte_cpu_to_be_16(*port);
        e.reply = translated.reversed();
        const hash_sig_t sig = rte_hash_hash(hash_, &e.reply);
        if (rte_hash_lookup_with_hash(hash_, &e.reply, sig) >= 0) continue;  // another flow holds this tuple
        // The add publishes the entry's fields to readers (release).
        added = rte_hash_add_key_with_hash_data(hash_, &e.reply, sig, encode(index, Direction::Reply));
        break;
    }
    if (added < 0) {
        rte_spinlock_unlock(&create_lock_);
        // No key of this entry was published: its slot goes straight back.
        rte_ring_enqueue_elem(free_, &index, sizeof index);
        why = added == -ENOENT ? DropReason::NatNoPort : DropReason::CtFull;
        return nullptr;
    }
    // From here expire() sees the entry, so a failure below is cleaned up there.
    e.in_use.store(true, std::memory_order_release);
    added = rte_hash_add_key_data(hash_, &e.original, encode(index, Direction::Original));
    rte_spinlock_unlock(&create_lock_);
    if (added < 0) {
        // Cannot happen while key slots >= 2 x entries; expire() reclaims the half-made entry.
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
    e.expires.store(now + ticks(next), std::memory_order_relaxed);
}

std::uint32_t Conntrack::expire(std::uint64_t now) {
    struct Dead {
        std::uint32_t index;
        std::int32_t pos[2];
    };
    std::vector<Dead> dead;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
        Entry& e = entries_[i];
        if (!e.in_use.load(std::memory_order_acquire) || e.expires.load(std::memory_order_relaxed) > now) continue;
        dead.push_back({i, {rte_hash_del_key(hash_, &e.reply), rte_hash_del_key(hash_, &e.original)}});
    }
    if (dead.empty()) return 0;
    // A worker that looked an entry up before its keys went may still use it.
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    for (const Dead& d : dead) {
        for (std::int32_t pos : d.pos) {
            if (pos >= 0) rte_hash_free_key_with_position(hash_, pos);
        }
        release(d.index);
    }
    return static_cast<std::uint32_t>(dead.size());
}

void Conntrack::release(std::uint32_t index) {
    entries_[index].in_use.store(false, std::memory_order_relaxed);
    rte_ring_enqueue_elem(free_, &index, sizeof index);
}

std::vector<FlowView> Conntrack::dump(std::uint64_t now) const {
    std::vector<FlowView> out;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
        const Entry& e = entries_[i];
        if (!e.in_use.load(std::memory_order_acquire)) continue;
        const std::uint64_t expires = e.expires.load(std::memory_order_relaxed);
        out.push_back({e.original, e.reply, e.state.load(std::memory_order_relaxed),
                       expires > now ? (expires - now) / hz_ : 0});
    }
    return out;
}

std::uint32_t Conntrack::entries() const { return capacity_ - rte_ring_count(free_); }

std::uint32_t Conntrack::ports_in_use(std::uint8_t proto) const {
    std::vector<bool> used(std::size_t{port_hi_} + 1);
    std::uint32_t distinct = 0;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
        const Entry& e = entries_[i];
        if (!e.in_use.load(std::memory_order_acquire) || e.original.proto != proto) continue;
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
