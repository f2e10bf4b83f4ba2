// The embedded DNS thread: takes the queries workers punt (dns/fastpath/
// dns_punt.hpp), answers names from the NameTable, forwards the rest to the
// upstream servers from the host's kernel with a UDP socket, and rewrites each
// query mbuf into its answer for the workers to send (the `replies` ring).
// With DnsOptions::tcp it also serves DNS over TCP at the gateways through the
// kernel (dns/tcp_server.hpp), with the same responder and forwarding.
// Idle, the thread waits in one poll() on the upstream socket, the TCP
// sockets and its doorbell (base/sync/doorbell.hpp), which workers ring when
// they punt a query; it rings worker 0's when it queues a reply, so neither
// side waits for the other's idle sleep.
// Threading: one std::thread (not an EAL lcore, no RCU reader); set_names()
// and the counter reads come from the control thread. The table is swapped
// under a mutex as a shared_ptr: the DNS thread takes its own reference once per
// batch, so the control thread never waits for a query and vice versa.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/sync/doorbell.hpp"
#include "dns/dns_counters.hpp"
#include "dns/fastpath/dns_punt.hpp"
#include "dns/hit_counters.hpp"
#include "dns/name_table.hpp"

namespace dpdock::dns {

inline constexpr unsigned kRingSize = 1024;
inline constexpr std::uint32_t kMaxPendingForwards = 256;
inline constexpr unsigned kForwardTimeoutMs = 2000;  // per upstream server tried
// The idle thread's longest wait: every event it serves has a descriptor or
// its doorbell; what it does on time (forward deadlines, TCP idle
// connections, bind retries) needs no finer steps.
inline constexpr int kIdleWaitMs = 50;

struct DnsOptions {
    std::vector<Ipv4Address> upstream;  // empty: everything not local gets SERVFAIL
    std::uint16_t upstream_port = 53;
    std::uint32_t queries_per_second = 2000;  // per network (burst: one second's worth); beyond: rate_limited
    bool tcp = false;  // listen on TCP 53 at every gateway (the exception path brings TCP there)
};

class DnsService {
public:
    // `replies_bell`: rung after each reply queued (a worker's; nullptr: the
    // workers poll). nullptr when the rings, socket or doorbell cannot be made.
    static std::unique_ptr<DnsService> start(unsigned socket_id, sync::Doorbell* replies_bell);
    ~DnsService();  // stops the thread, frees every mbuf it holds
    DnsService(const DnsService&) = delete;
    DnsService& operator=(const DnsService&) = delete;

    const DnsRings& rings() const { return rings_; }
    void set_names(std::shared_ptr<const NameTable> names);  // also forgets the hits of names gone
    void set_options(const DnsOptions& options);
    std::shared_ptr<const NameTable> names() const;
    const DnsCounters& counters() const { return counters_; }
    // Queries answered from the table per name on a network, for `dpdock dns`.
    std::uint64_t hits(NetworkId network, const std::string& name) const;

private:
    DnsService() = default;
    struct State;
    struct Asker;
    void run();
    void handle(rte_mbuf* m, const NameTable& names, const DnsOptions& options);
    void answer(const Asker& asker, std::span<const std::uint8_t> query, const NameTable& names,
                const DnsOptions& options);
    void reply(const Asker& asker, std::span<const std::uint8_t> wire);
    bool admit(NetworkId network, std::uint32_t rate);
    bool send_reply(rte_mbuf* m, std::span<const std::uint8_t> wire);
    void count_hit(NetworkId network, const std::string& name);
    void forward(const Asker& asker, std::span<const std::uint8_t> query, const DnsOptions& options);
    bool send_upstream(std::span<const std::uint8_t> query, Ipv4Address server, std::uint16_t port);
    void receive_upstream(const DnsOptions& options);
    void expire_forwards(const DnsOptions& options);
    void serve_tcp(const NameTable& names, const DnsOptions& options, bool idle);

    DnsRings rings_;
    sync::Doorbell bell_;                     // this thread's: rung by workers' punts and by set_*()
    sync::Doorbell* replies_bell_ = nullptr;  // a worker's
    DnsCounters counters_;
    mutable std::mutex mutex_;  // guards names_, options_, hits_
    std::shared_ptr<const NameTable> names_;
    HitCounters hits_;
    DnsOptions options_;
    std::unique_ptr<State> state_;  // DNS thread only
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The nameservers of a resolv.conf, loopback servers skipped (Docker's rule:
// the container cannot reach the host's 127.0.0.53).
std::vector<Ipv4Address> upstream_from_resolv_conf(const std::string& path);

}  // namespace dpdock::dns
