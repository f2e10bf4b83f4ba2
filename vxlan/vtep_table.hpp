// Remote VTEPs as pseudo ports. The MAC table maps (network, MAC) to a PortId;
// a MAC behind a remote VTEP maps to kVtepPortBase + the VTEP's index here,
// so learning, ageing, moves and static entries work unchanged for remote
// MACs, and the bridge stage tells a remote destination by its port id.
// Two kinds of VTEP: configured (peers and static remote MACs, added by the
// control thread, kept for the daemon's life) and learned (vxlan.learn-
// unknown-peers: added by the uplink worker from a packet's source, at most
// kMaxLearnedVteps at a time, freed when unseen for the MAC ageing time), so
// spoofed VXLAN sources can neither exhaust the table nor keep it.
// Index: an rte_hash from address to index (lock-free readers). Writers: the
// control thread and the uplink worker, serialised by add_lock_ (an
// rte_spinlock, taken only to add a new VTEP or free learned ones; the worker
// takes it at most kMaxLearnedVteps times per ageing period). A freed index
// is reused only after an RCU grace period and after its MAC entries were
// flushed, so no MAC entry or in-flight packet sees it change meaning.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <rte_spinlock.h>

#include "base/packet/net_types.hpp"
#include "base/sync/counters.hpp"
#include "base/util/status.hpp"

struct rte_hash;
struct rte_rcu_qsbr;

namespace dpdock::vxlan {

inline constexpr PortId kVtepPortBase = kRemotePortBase;
inline constexpr unsigned kMaxVteps = 1024;
inline constexpr unsigned kMaxLearnedVteps = 256;  // the rest is always left for configured peers
static_assert(kVtepPortBase >= sync::kMaxPorts, "VTEP ports must not collide with ethdev ports");
static_assert(kVtepPortBase + kMaxVteps < kNoPort);
static_assert(kMaxLearnedVteps < kMaxVteps);

constexpr bool is_vtep_port(PortId port) { return port >= kVtepPortBase && port < kVtepPortBase + kMaxVteps; }

class VtepTable {
public:
    // `qsbr`: the workers' RCU variable (freed indexes wait for a grace period).
    static Result<std::unique_ptr<VtepTable>> create(const std::string& name, int socket, rte_rcu_qsbr* qsbr);
    ~VtepTable();
    VtepTable(const VtepTable&) = delete;
    VtepTable& operator=(const VtepTable&) = delete;

    // Control thread: the port of a configured VTEP, added when new (a learned
    // one becomes configured); kNoPort when the table is full or `ip` is 0.0.0.0.
    PortId port_of(Ipv4Address ip);
    // Any thread: the port of a known VTEP, or kNoPort. One hash lookup.
    PortId find(Ipv4Address ip) const;
    // Uplink worker: the port of `ip` seen as a VXLAN source at `now`, learned
    // when new and fewer than kMaxLearnedVteps are learned; kNoPort otherwise.
    PortId learn(Ipv4Address ip, std::uint64_t now);
    // The address behind a port from port_of()/learn(); 0.0.0.0 for any other port.
    Ipv4Address address(PortId port) const {
        if (!is_vtep_port(port)) return Ipv4Address();
        return Ipv4Address(slots_[port - kVtepPortBase].ip.load(std::memory_order_acquire));
    }
    // Control thread: frees learned VTEPs not seen for `max_age` ticks. They
    // leave the index first (their next packet learns them anew), then, after
    // a grace period, `forget(port)` runs for each (flush its MAC entries) and
    // the index is freed. Returns how many.
    std::size_t expire(std::uint64_t now, std::uint64_t max_age, const std::function<void(PortId)>& forget);
    unsigned learned() const { return learned_.load(std::memory_order_relaxed); }

private:
    enum Kind : std::uint8_t { kFree, kConfigured, kLearned, kRetired };
    struct Slot {
        std::atomic<std::uint32_t> ip{0};  // host order; 0: free
        std::atomic<std::uint8_t> kind{kFree};
        std::atomic<std::uint64_t> seen{0};  // learned: last packet (uplink worker)
    };
    VtepTable(rte_hash* hash, rte_rcu_qsbr* qsbr) : hash_(hash), qsbr_(qsbr) { rte_spinlock_init(&add_lock_); }
    // Under add_lock_: `ip`'s index, added as `kind` when absent (`added` says so).
    PortId add_locked(std::uint32_t ip, Kind kind, std::uint64_t now, bool& added);

    rte_hash* hash_;
    rte_rcu_qsbr* qsbr_;
    rte_spinlock_t add_lock_;
    std::atomic<unsigned> learned_{0};
    std::array<Slot, kMaxVteps> slots_{};
};

}  // namespace dpdock::vxlan
