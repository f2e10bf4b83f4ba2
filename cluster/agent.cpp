#include "base/util/utc_time.hpp"
#include "cluster/agent.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "config/overlay.hpp"

namespace dpdock::cluster {
namespace {

// How many addresses (or VNIs) one prepare() tries when others take them first.
constexpr int kClaimAttempts = 64;

void log(const std::string& message) {
    std::fprintf(stderr, "dpdockd: cluster: %s\n", message.c_str());
    std::fflush(stderr);
}

const config::NetworkSpec* find_network(const config::Deployment& d, const std::string& name) {
    auto it = std::find_if(d.networks.begin(), d.networks.end(), [&](const auto& n) { return n.name == name; });
    return it == d.networks.end() ? nullptr : &*it;
}

bool has_endpoint(const config::Deployment& d, const std::string& container, const std::string& network) {
    for (const auto& c : d.containers) {
        if (c.name != container) continue;
        for (const auto& e : c.networks) {
            if (e.network == network) return true;
        }
    }
    return false;
}

const Status kUnreachable = Status::error(
    "the cluster store (etcd) is unreachable: changes to global networks are refused until it is back");

}  // namespace

Agent::Agent(AgentOptions options, std::function<void()> notify)
    : options_(std::move(options)),
      notify_(std::move(notify)),
      control_client_(options_.etcd),
      watch_client_(options_.etcd) {}

Agent::~Agent() {
    stop_ = true;
    wake_.notify_all();
    watch_client_.stop();
    if (session_.joinable()) session_.join();
    if (watch_.joinable()) watch_.join();
    if (const std::int64_t lease = lease_; lease != 0 && connected_) {
        if (auto st = control_client_.lease_revoke(lease); !st) log("revoking the lease: " + st.message());
    }
}

void Agent::start(Ipv4Address vtep) {
    vtep_ = vtep;
    session_ = std::thread([this] { session_loop(); });
    watch_ = std::thread([this] { watch_loop(); });
}

template <typename T>
Result<T> Agent::counted(Result<T> r) {
    if (r) {
        ++counters_.store_ops;
    } else {
        ++counters_.store_errors;
    }
    return r;
}

bool Agent::sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, d, [&] { return stop_.load(); });
    return !stop_;
}

TypedView Agent::view() const {
    std::lock_guard lock(mutex_);
    return view_.typed();
}

AgentStatus Agent::status() const {
    std::lock_guard lock(mutex_);
    return AgentStatus{options_.host, vtep_, connected_, control_client_.endpoint(), lease_, view_.revision()};
}

void Agent::session_loop() {
    EtcdClient client(options_.etcd);
    const auto refresh = std::chrono::milliseconds(options_.lease_ttl_s * 1000 / 3);
    bool ever = false;
    while (!stop_) {
        if (lease_ == 0) {
            auto lease = counted(client.lease_grant(options_.lease_ttl_s));
            if (!lease) {
                if (connected_.exchange(false) || !ever) log("etcd unreachable, retrying: " + lease.message());
                ever = true;
                sleep_for(options_.retry);
                continue;
            }
            auto put = counted(client.put(host_key(options_.host), to_json(HostRecord{options_.host, vtep_, utc_now()}),
                                          *lease));
            if (!put) {
                sleep_for(options_.retry);
                continue;
            }
            if (ever) ++counters_.reconnects;
            ever = true;
            lease_ = *lease;
            connected_ = true;
            log("registered " + options_.host + " (VTEP " + vtep_.to_string() + ") at " + client.endpoint());
            resync_own(client, *lease);
            // Own records of an earlier lease (a restart after SIGKILL) are
            // gone now: the control thread may restore saved endpoints.
            own_synced_ = true;
            notify_();
        }
        if (!sleep_for(refresh)) break;
        auto ttl = counted(client.lease_keepalive(lease_));
        if (!ttl) {
            if (connected_.exchange(false)) log("etcd lost: " + ttl.message());
            continue;  // the lease may outlive a short outage: keep trying it
        }
        if (*ttl == 0) {
            log("the lease expired: registering again");
            lease_ = 0;
            continue;
        }
        if (!connected_.exchange(true)) {
            log("etcd back at " + client.endpoint());
            resync_own(client, lease_);
        }
    }
}

std::vector<EndpointRecord> Agent::own_endpoints(const config::Deployment& d) const {
    std::vector<EndpointRecord> out;
    for (const auto& c : d.containers) {
        for (const auto& e : c.networks) {
            const config::NetworkSpec* n = find_network(d, e.network);
            if (n == nullptr || !n->global || !e.ip) continue;
            out.push_back(EndpointRecord{n->name, c.name, *e.ip, e.mac.value_or(docker_mac_for(*e.ip)),
                                         options_.host, vtep_});
        }
    }
    return out;
}

// After a (re)connection: every endpoint this host runs is in the store under
// the current lease, and no record of an earlier lease names this host.
void Agent::resync_own(EtcdClient& client, std::int64_t lease) {
    std::vector<EndpointRecord> own;
    {
        std::lock_guard lock(mutex_);
        own = own_;
    }
    auto stored = counted(client.range(endpoints_prefix(), prefix_end(endpoints_prefix())));
    if (!stored) return;
    for (const auto& kv : stored->kvs) {
        auto r = parse_endpoint(kv.value);
        if (!r || r->host != options_.host) continue;
        // Under this lease: committed, or claimed by the control thread and
        // not committed yet; taking that away would let another host be
        // given the same address. Only an earlier lease's leftovers go.
        if (kv.lease == lease) continue;
        if (std::find(own.begin(), own.end(), *r) != own.end()) continue;  // re-put below
        counted(client.txn({value_is(kv.key, kv.value)},
                           {delete_op(kv.key)}));
    }
    for (const auto& r : own) {
        const std::string key = endpoint_key(r.network, r.ip);
        const std::string value = to_json(r);
        // Ours or free: (re)claim it under this lease; someone else's: a conflict to report.
        auto txn = counted(client.txn({key_absent(key)}, {put_op(key, value, lease)}, {range_op(key)}));
        if (!txn || txn->succeeded) continue;
        const auto& kvs = txn->ranges.empty() ? std::vector<KeyValue>{} : txn->ranges[0].kvs;
        if (!kvs.empty() && kvs[0].value == value) {
            if (kvs[0].lease != lease) counted(client.put(key, value, lease));
            continue;
        }
        ++counters_.txn_conflicts;
        log("endpoint " + r.container + " on " + r.network + ": address " + r.ip.to_string() +
            " was claimed by another host meanwhile");
    }
}

void Agent::watch_loop() {
    bool need_full = true;
    while (!stop_) {
        if (need_full) {
            auto all = counted(watch_client_.range(kPrefix, prefix_end(kPrefix)));
            if (!all) {
                if (!sleep_for(options_.retry)) break;
                continue;
            }
            {
                std::lock_guard lock(mutex_);
                view_.reset(*all);
            }
            ++counters_.resyncs;
            need_full = false;
            notify_();
        }
        std::int64_t from = 0;
        {
            std::lock_guard lock(mutex_);
            from = view_.revision() + 1;
        }
        auto st = watch_client_.watch(kPrefix, prefix_end(kPrefix), from, [&](const WatchBatch& batch) {
            if (batch.compact_revision > 0) {
                need_full = true;
                return false;
            }
            if (batch.events.empty()) return !stop_.load();
            {
                std::lock_guard lock(mutex_);
                std::int64_t last = 0;
                for (const auto& ev : batch.events) {
                    if (ev.deleted) {
                        view_.erase(ev.kv.key, ev.kv.mod_revision);
                    } else {
                        view_.put(ev.kv);
                    }
                    last = std::max(last, ev.kv.mod_revision);
                }
                view_.advance(last);
            }
            counters_.watch_events += batch.events.size();
            notify_();
            return !stop_.load();
        });
        if (stop_) break;
        if (!st) {
            ++counters_.store_errors;
            if (!sleep_for(options_.retry)) break;
        }
    }
}

Status Agent::prepare(config::Deployment& target, const config::Deployment& running) {
    claims_.clear();
    TypedView view = this->view();
    // Removed by the user: in the store, running here, not in target.
    for (const auto& n : running.networks) {
        if (!n.global || find_network(target, n.name) != nullptr || !view.networks.contains(n.name)) continue;
        if (auto st = remove_network(n.name); !st) return st;
    }
    for (auto& n : target.networks) {
        if (!n.global || find_network(running, n.name) != nullptr) continue;
        auto stored = view.networks.find(n.name);
        if (stored != view.networks.end()) {
            // Derived from the store (same record), or a user's create that lost the race.
            if (record_of(n, stored->second.created_by) == stored->second) continue;
            return Status::error("network with name " + n.name + " already exists in the cluster (created by host " +
                                 stored->second.created_by + ")");
        }
        if (auto st = create_network(n, target, view); !st) {
            committed(running);
            return st;
        }
    }
    for (auto& c : target.containers) {
        for (auto& e : c.networks) {
            const config::NetworkSpec* n = find_network(target, e.network);
            if (n == nullptr || !n->global || has_endpoint(running, c.name, e.network)) continue;
            if (auto st = claim_endpoint(c.name, e, *n, target, view); !st) {
                committed(running);
                return st;
            }
        }
    }
    return {};
}

Status Agent::create_network(config::NetworkSpec& n, const config::Deployment& target, const TypedView& view) {
    if (!connected_) return kUnreachable;
    std::set<std::uint32_t> taken;
    for (const auto& [name, r] : view.networks) taken.insert(r.vni);
    for (const auto& other : target.networks) {
        if (other.vni && &other != &n) taken.insert(*other.vni);
    }
    const bool given = n.vni.has_value();
    std::uint32_t vni = given ? *n.vni : target.vxlan.vni_lo;
    for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
        if (!given) {
            while (vni <= target.vxlan.vni_hi && taken.contains(vni)) ++vni;
            if (vni > target.vxlan.vni_hi) break;
        }
        n.vni = vni;
        const std::string key = network_key(n.name);
        const std::string value = to_json(record_of(n, options_.host));
        auto txn = counted(control_client_.txn(
            {key_absent(key), key_absent(vni_key(vni))}, {put_op(key, value), put_op(vni_key(vni), n.name)},
            {range_op(key), range_op(vnis_prefix(), prefix_end(vnis_prefix()))}));
        if (!txn) return Status::error("creating global network " + n.name + ": " + txn.message());
        if (txn->succeeded) {
            claims_.push_back({key, value});
            claims_.push_back({vni_key(vni), n.name});
            std::lock_guard lock(mutex_);
            view_.put(KeyValue{key, value, txn->revision, txn->revision, 0});
            return {};
        }
        ++counters_.txn_conflicts;
        if (txn->ranges.size() == 2 && !txn->ranges[0].kvs.empty()) {
            auto other = parse_network(txn->ranges[0].kvs[0].value);
            return Status::error("network with name " + n.name + " already exists in the cluster" +
                                 (other && !other->created_by.empty() ? " (created by host " + other->created_by + ")"
                                                                      : std::string()));
        }
        if (given) return Status::error("vni " + std::to_string(vni) + " is already used by another global network");
        for (const auto& kv : txn->ranges.size() == 2 ? txn->ranges[1].kvs : std::vector<KeyValue>{}) {
            try {
                taken.insert(static_cast<std::uint32_t>(std::stoul(kv.key.substr(vnis_prefix().size()))));
            } catch (const std::exception&) {
            }
        }
        taken.insert(vni);
    }
    return Status::error("no free VNI left in vxlan.vni-range for global network " + n.name);
}

Status Agent::remove_network(const std::string& name) {
    if (!connected_) return kUnreachable;
    auto record = view().networks.at(name);
    const std::string prefix = endpoints_prefix(name);
    // Only while no host has an endpoint on it: every key under the prefix must be absent.
    auto txn = counted(control_client_.txn(
        {key_absent(prefix, prefix_end(prefix))}, {delete_op(network_key(name)), delete_op(vni_key(record.vni))}));
    if (!txn) return Status::error("removing global network " + name + ": " + txn.message());
    if (!txn->succeeded) {
        ++counters_.txn_conflicts;
        return Status::error("network " + name + " has active endpoints on other hosts of the cluster");
    }
    std::lock_guard lock(mutex_);
    view_.erase(network_key(name), txn->revision);
    return {};
}

Status Agent::claim_endpoint(const std::string& container, config::EndpointSpec& e, const config::NetworkSpec& n,
                             const config::Deployment& target, TypedView& view) {
    if (!connected_ || lease_ == 0) return kUnreachable;
    std::set<std::uint32_t> taken{n.gateway.host()};
    for (const auto& ep : view.endpoints) {
        if (ep.network == n.name) taken.insert(ep.ip.host());
    }
    for (const auto& c : target.containers) {
        for (const auto& other : c.networks) {
            if (other.network == n.name && other.ip && &other != &e) taken.insert(other.ip->host());
        }
    }
    const Ipv4Cidr pool = n.ip_range.value_or(n.subnet);
    const std::uint32_t first = pool.network().host() + 1;
    const std::uint32_t last = pool.network().host() + (pool.prefix() >= 31 ? 0u : ~0u >> pool.prefix()) - 1;
    std::uint32_t next = first;
    const bool given = e.ip.has_value();
    for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
        if (!given) {
            // The lowest free address first, as Docker's IPAM; after a lost
            // race a random free one, so hosts attaching at once stop
            // colliding on the same next address.
            if (attempt > 0 && last > first) {
                next = first + static_cast<std::uint32_t>(random_() % (last - first + 1));
                if (taken.contains(next)) next = first;
            }
            while (next <= last && taken.contains(next)) ++next;
            if (next > last) break;
        }
        const Ipv4Address ip = given ? *e.ip : Ipv4Address(next);
        const EndpointRecord record{n.name, container, ip, e.mac.value_or(docker_mac_for(ip)), options_.host, vtep_};
        const std::string key = endpoint_key(n.name, ip);
        const std::string value = to_json(record);
        const std::string prefix = endpoints_prefix(n.name);
        auto txn = counted(control_client_.txn(
            {key_absent(key)}, {put_op(key, value, lease_)}, {range_op(prefix, prefix_end(prefix))}));
        if (!txn) return Status::error("claiming an address on " + n.name + ": " + txn.message());
        if (txn->succeeded) {
            e.ip = ip;
            claims_.push_back({key, value});
            std::lock_guard lock(mutex_);
            view_.put(KeyValue{key, value, txn->revision, txn->revision, lease_});
            return {};
        }
        ++counters_.txn_conflicts;
        for (const auto& kv : txn->ranges.empty() ? std::vector<KeyValue>{} : txn->ranges[0].kvs) {
            if (auto other = parse_endpoint(kv.value)) {
                if (given && other->ip == ip) {
                    return Status::error("address " + ip.to_string() + " on network " + n.name +
                                         " is used by container " + other->container + " on host " + other->host);
                }
                taken.insert(other->ip.host());
            }
        }
        taken.insert(ip.host());
    }
    return Status::error("no free address left on global network " + n.name);
}

void Agent::release(const Claim& claim) {
    counted(control_client_.txn({value_is(claim.key, claim.value)}, {delete_op(claim.key)}));
}

void Agent::committed(const config::Deployment& now) {
    std::vector<EndpointRecord> own = own_endpoints(now);
    for (const auto& claim : claims_) {
        // A claim whose object did not make it into `now` is given back.
        bool kept = false;
        if (auto ep = parse_endpoint(claim.value)) {
            kept = std::find(own.begin(), own.end(), *ep) != own.end();
        } else if (auto net = parse_network(claim.value)) {
            kept = find_network(now, net->name) != nullptr;
        } else {
            const config::NetworkSpec* owner = find_network(now, claim.value);  // a VNI claim holds its network's name
            kept = owner != nullptr && owner->vni && vni_key(*owner->vni) == claim.key;
        }
        if (!kept) release(claim);
    }
    claims_.clear();
    std::vector<EndpointRecord> gone;
    {
        std::lock_guard lock(mutex_);
        for (const auto& r : own_) {
            if (std::find(own.begin(), own.end(), r) == own.end()) gone.push_back(r);
        }
        own_ = own;
    }
    if (!connected_) return;  // the re-sync after reconnection removes them
    for (const auto& r : gone) release({endpoint_key(r.network, r.ip), to_json(r)});
}

}  // namespace dpdock::cluster
