// Agent: this host's membership in the cluster and its copy of the store.
//
// Two threads of its own, so neither the workers nor the control socket ever
// wait on etcd for long:
//  - session: grants the host's lease, registers the host (VTEP = uplink
//    address) under it, keeps it alive every TTL/3, and after a reconnection
//    re-claims this host's endpoints (and removes its stale ones);
//  - watch: reads /dpdock/ once, then streams changes from the next revision
//    into the StoreView; a broken stream resumes from the last revision seen
//    (no full flush), a compacted one re-reads everything.
// Every change of the view calls `notify` (from those threads); the control
// thread then reads view() and converges State to derive()'s deployment.
// The control thread's own writes (prepare/committed/abandoned) go through
// its own client with short timeouts: transactions that create a global
// network (unique name and VNI), claim an endpoint's address (unique per
// network) and release them. While etcd is unreachable, additions to global
// networks are refused; removals wait for the re-sync.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_client.hpp"
#include "cluster/store_view.hpp"
#include "config/model.hpp"

namespace dpdock::cluster {

struct AgentOptions {
    EtcdOptions etcd;
    std::string host;                 // this host's name in the cluster
    std::int64_t lease_ttl_s = 5;     // a host that stops refreshing is forgotten after this
    std::chrono::milliseconds retry{1000};
};

struct AgentCounters {
    std::atomic<std::uint64_t> store_ops{0};      // requests etcd answered
    std::atomic<std::uint64_t> store_errors{0};   // requests that failed (unreachable, refused)
    std::atomic<std::uint64_t> txn_conflicts{0};  // transactions whose guard failed (a race lost)
    std::atomic<std::uint64_t> watch_events{0};
    std::atomic<std::uint64_t> reconnects{0};     // leases granted after the first
    std::atomic<std::uint64_t> resyncs{0};        // full reads of the store
};

struct AgentStatus {
    std::string host;
    Ipv4Address vtep;
    bool connected = false;
    std::string endpoint;  // the etcd member last used
    std::int64_t lease = 0;
    std::int64_t revision = 0;
};

class Agent {
public:
    Agent(AgentOptions options, std::function<void()> notify);
    ~Agent();  // stops both threads and revokes the lease (the host and its endpoints go at once)
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void start(Ipv4Address vtep);
    const std::string& host() const { return options_.host; }
    Ipv4Address vtep() const { return vtep_; }
    bool connected() const { return connected_; }
    // Connected, and this host's records of an earlier run dealt with
    // (resync_own after the first registration): saved endpoints may be restored.
    bool own_synced() const { return connected_ && own_synced_; }
    TypedView view() const;
    AgentStatus status() const;
    const AgentCounters& counters() const { return counters_; }

    // Control thread, before `target` is applied: creates the global networks
    // that are new in it (filling in their VNI), removes those the user
    // removed, claims the addresses of new endpoints on global networks
    // (filling in their IP). Nothing is left claimed on error.
    Status prepare(config::Deployment& target, const config::Deployment& running);
    // Control thread, after `now` was applied (or after a failure, with
    // `now` the deployment still running): releases the endpoints (and, on
    // failure, the networks) that are not in `now`.
    void committed(const config::Deployment& now);

private:
    struct Claim {
        std::string key;
        std::string value;
    };
    void session_loop();
    void watch_loop();
    bool sleep_for(std::chrono::milliseconds d);  // false when stopping
    void resync_own(EtcdClient& client, std::int64_t lease);
    std::vector<EndpointRecord> own_endpoints(const config::Deployment& d) const;
    template <typename T>
    Result<T> counted(Result<T> r);
    Status create_network(config::NetworkSpec& n, const config::Deployment& target, const TypedView& view);
    Status remove_network(const std::string& name);
    Status claim_endpoint(const std::string& container, config::EndpointSpec& e, const config::NetworkSpec& n,
                          const config::Deployment& target, TypedView& view);
    void release(const Claim& claim);

    AgentOptions options_;
    std::function<void()> notify_;
    Ipv4Address vtep_;
    AgentCounters counters_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> own_synced_{false};
    std::atomic<std::int64_t> lease_{0};

    mutable std::mutex mutex_;  // guards view_, own_, sleeping
    std::condition_variable wake_;
    StoreView view_;
    std::vector<EndpointRecord> own_;  // this host's endpoints on global networks, as running
    std::vector<Claim> claims_;        // made by prepare(), settled by committed() (control thread only)
    std::minstd_rand random_{std::random_device{}()};  // control thread: addresses tried after a lost race

    EtcdClient control_client_;  // control thread
    EtcdClient watch_client_;    // watch thread; stop() from the destructor
    std::thread session_;
    std::thread watch_;
};

}  // namespace dpdock::cluster
