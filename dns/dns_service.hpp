// The embedded DNS thread: takes the queries workers punt (dns/fastpath/
// dns_punt.hpp), answers names from the NameTable, forwards the rest to the
// upstream servers from the host's kernel with a UDP socket, and rewrites each
// query mbuf into its answer for the workers to send (the `replies` ring).
// Threading: one std::thread (not an EAL lcore, no RCU reader); set_names()
// and the counter reads come from the control thread. The table is swapped
// under a mutex as a shared_ptr: the DNS thread takes its own reference once per
// batch, so the control thread never waits for a query and vice versa.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/packet/net_types.hpp"
#include "dns/fastpath/dns_punt.hpp"
#include "dns/name_table.hpp"

namespace dpdock::dns {

inline constexpr unsigned kRingSize = 1024;
inline constexpr std::uint32_t kMaxPendingForwards = 256;
inline constexpr unsigned kForwardTimeoutMs = 2000;  // per upstream server tried

struct DnsCounters {
    std::atomic<std::uint64_t> queries{0};
    std::atomic<std::uint64_t> answered{0};   // A/PTR from the table
    std::atomic<std::uint64_t> nodata{0};     // known name, no record of that type
    std::atomic<std::uint64_t> forwarded{0};
    std::atomic<std::uint64_t> upstream_answers{0};
    std::atomic<std::uint64_t> servfail{0};   // every upstream failed, or no upstream
    std::atomic<std::uint64_t> refused{0};    // internal network (no forwarding), unsupported opcode
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> rate_limited{0};
    std::atomic<std::uint64_t> not_served{0};  // to the gateway of a network without DNS (the default bridge)
    std::atomic<std::uint64_t> forward_full{0};  // too many queries waiting for upstream
    std::atomic<std::uint64_t> reply_full{0};    // the workers' reply ring was full
};

struct DnsOptions {
    std::vector<Ipv4Address> upstream;  // empty: everything not local gets SERVFAIL
    std::uint16_t upstream_port = 53;
    std::uint32_t queries_per_second = 2000;  // per network (burst: one second's worth); beyond: rate_limited
};

class DnsService {
public:
    static std::unique_ptr<DnsService> start(unsigned socket_id);  // nullptr when rings cannot be made
    ~DnsService();  // stops the thread, frees every mbuf it holds
    DnsService(const DnsService&) = delete;
    DnsService& operator=(const DnsService&) = delete;

    const DnsRings& rings() const { return rings_; }
    void set_names(std::shared_ptr<const NameTable> names);
    void set_options(const DnsOptions& options);
    std::shared_ptr<const NameTable> names() const;
    const DnsCounters& counters() const { return counters_; }
    // Queries answered from the table per name on a network, for `dpdock dns`.
    std::uint64_t hits(NetworkId network, const std::string& name) const;

private:
    DnsService() = default;
    struct State;
    void run();
    void handle(rte_mbuf* m, const NameTable& names, const DnsOptions& options);
    bool admit(NetworkId network, std::uint32_t rate);
    bool send_reply(rte_mbuf* m, std::span<const std::uint8_t> wire);
    void count_hit(NetworkId network, const std::string& name);
    void forward(rte_mbuf* m, std::span<const std::uint8_t> query, const DnsOptions& options);
    bool send_upstream(std::span<const std::uint8_t> query, Ipv4Address server, std::uint16_t port);
    void receive_upstream(const DnsOptions& options);
    void expire_forwards(const DnsOptions& options);

    DnsRings rings_;
    DnsCounters counters_;
    mutable std::mutex mutex_;  // guards names_, options_, hits_
    std::shared_ptr<const NameTable> names_;
    std::map<std::pair<NetworkId, std::string>, std::uint64_t> hits_;
    DnsOptions options_;
    std::unique_ptr<State> state_;  // DNS thread only
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The nameservers of a resolv.conf, loopback servers skipped (Docker's rule:
// the container cannot reach the host's 127.0.0.53).
std::vector<Ipv4Address> upstream_from_resolv_conf(const std::string& path);

}  // namespace dpdock::dns
