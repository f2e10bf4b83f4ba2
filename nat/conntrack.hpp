// Connection tracking for MASQUERADE: one entry per flow, reachable from two
// keys on one rte_hash (the original tuple, as the container sent it, and the
// reply tuple, as the answer arrives on the uplink), like OVS's conntrack.
//
// Concurrency (see docs/ARCHITECTURE.md, "Conntrack"):
// - create(): workers that poll container ports (any of them). Entry slots
//   come from an MP/MC ring of free indices. The host port is found as Linux
//   does (nf_nat_used_tuple): a port is free for a flow when no entry holds
//   the same translated tuple, so the table itself records what is taken and
//   there is no port bitmap (see port_search.hpp). Checking a reply key and
//   adding it must be one step, and rte_hash_add_key_data silently updates a
//   key that exists, so creators serialise on create_lock_ (a spinlock, only
//   for new flows) around lookup + add; the adds also take rte_hash's own
//   writer lock (MULTI_WRITER_ADD), which orders them against expire()'s deletes.
// - find()/track(): any worker, lock-free (RW_CONCURRENCY_LF); state and
//   deadline are per-entry atomics, so both directions may be on two workers.
// - expire()/dump(): the control thread. expire() deletes both keys of every
//   entry past its deadline, waits for an RCU grace period (no worker still
//   holds the entry), then frees the key slots and the entry. A deleted reply
//   key makes its translated tuple available again at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rte_spinlock.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
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

// One cache line each, so a packet's entry is one miss and one prefetch (find_bulk).
struct alignas(64) Entry {
    FlowKey original;  // as the container sent it
    FlowKey reply;     // as the answer arrives on the uplink: to the host address and host port
    MacAddress mac;    // the container's MAC and network: where replies go
    NetworkId network = kNoNetwork;
    std::atomic<CtState> state{CtState::Icmp};
    std::atomic<std::uint64_t> expires{0};  // TSC; 0 marks an entry that never became whole
    std::atomic<bool> in_use{false};
    // Set by create() and create_published(). For Published and Hairpin, `mac` and `network` say where replies go
    // (kNoNetwork: out of the uplink).
    EntryKind kind = EntryKind::Masquerade;
};
static_assert(sizeof(Entry) == 64);

struct ConntrackOptions {
    std::string name;                 // prefix of the DPDK objects' names (short: hash names are limited)
    std::uint32_t capacity = 1 << 20; // flows
    std::uint16_t port_lo = 1024;
    std::uint16_t port_hi = 65535;
    Timeouts timeouts;
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
    void find_bulk(const FlowKey* const* keys, std::uint32_t n, Entry** entries, Direction* dirs) const;
    // A new flow for `original`, translated to `host_ip` and a host port
    // no other flow to the same destination uses (the original source port
    // when it can). nullptr with `why` = CtFull, or NatNoPort when
    // PortSearch found no free port for that destination.
    Entry* create(const FlowKey& original, std::uint32_t host_ip, MacAddress mac, NetworkId network,
                  std::uint8_t tcp_flags, std::uint64_t now, DropReason& why);
    // A new flow to a published port: its destination becomes to_ip:to_port
    // (wire order); with snat_ip != 0 (hairpin) its source becomes snat_ip
    // and a host port. Replies go to reply_mac in reply_network (kNoNetwork:
    // the uplink). nullptr with `why` like create().
    Entry* create_published(const FlowKey& original, std::uint32_t to_ip, std::uint16_t to_port, std::uint32_t snat_ip,
                            MacAddress reply_mac, NetworkId reply_network, std::uint8_t tcp_flags, std::uint64_t now,
                            DropReason& why);
    // A packet of the flow passed in `dir`: state and deadline move on.
    void track(Entry& e, Direction dir, std::uint8_t tcp_flags, std::uint64_t now) const;

    // Control side. Reclaims every entry whose deadline is before `now`
    // (waits for an RCU grace period when there is any); returns how many.
    std::uint32_t expire(std::uint64_t now);
    std::vector<FlowView> dump(std::uint64_t now) const;
    std::uint32_t capacity() const { return capacity_; }
    std::uint32_t entries() const;
    // Distinct host ports (echo ids) the protocol's flows use; a port shared
    // by flows to several destinations counts once. Scans the table.
    std::uint32_t ports_in_use(std::uint8_t proto) const;

private:
    explicit Conntrack(const ConntrackOptions& options);
    std::uint64_t ticks(CtState s) const { return ticks_[static_cast<std::size_t>(s)]; }
    void release(std::uint32_t index);
    // The entry and direction a key's data (encode()) names.
    Entry* decode(void* data, Direction& dir) const;
    // A free entry index; nullopt with `why` = CtFull when there is none.
    std::optional<std::uint32_t> take_slot(DropReason& why);
    // Entry `index` (original, mac, network, kind filled in) becomes live:
    // state and deadline from its first packet, then both keys. Its reply is
    // `translated` reversed, with the source port PortSearch finds free for
    // that tuple when choose_port, else the original source port (NatNoPort
    // when that tuple is taken).
    Entry* activate(std::uint32_t index, FlowKey translated, bool choose_port, std::uint8_t tcp_flags,
                    std::uint64_t now, DropReason& why);

    std::uint32_t capacity_;
    std::uint64_t hz_;
    rte_rcu_qsbr* qsbr_;
    std::array<std::uint64_t, static_cast<std::size_t>(CtState::Count)> ticks_{};
    rte_hash* hash_ = nullptr;
    rte_ring* free_ = nullptr;  // indices of unused entries
    std::unique_ptr<Entry[]> entries_;
    std::uint16_t port_lo_, port_hi_;
    rte_spinlock_t create_lock_ = RTE_SPINLOCK_INITIALIZER;
};

}  // namespace dpdock::nat
