#include "control/daemon.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include <rte_cycles.h>

#include "cluster/restore.hpp"
#include "config/defaults.hpp"
#include "config/loader.hpp"
#include "config/validate.hpp"
#include "control/attach/link_watcher.hpp"
#include "control/cluster_sync.hpp"
#include "control/command_registry.hpp"
#include "control/commands/command_context.hpp"
#include "control/event_loop.hpp"
#include "control/server.hpp"
#include "control/state.hpp"
#include "control/telemetry.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/eal.hpp"
#include "dataplane/fastpath/worker_context.hpp"
#include "dataplane/memory_budget.hpp"

namespace dpdock::control {
namespace {

// Conntrack expiry: a slice of the table every tick, all of it every sweep
// (a flow outlives its deadline by at most about a sweep); slices are never
// smaller than kConntrackMinSlice slots.
constexpr std::chrono::milliseconds kConntrackTick{100};
constexpr std::chrono::milliseconds kConntrackSweep{10'000};
constexpr std::uint32_t kConntrackMinSlice = 4096;

void log(const std::string& message) {
    std::fprintf(stderr, "dpdockd: %s\n", message.c_str());
    std::fflush(stderr);
}

// SIGINT/SIGTERM are blocked in every thread (EAL's included, which inherit
// the mask) and read through a signalfd by the event loop.
int block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the daemon
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

// Without a file dpdockd starts empty, as dockerd does: the default bridge and
// nothing attached; the demo is asked for by name.
Result<config::Deployment> load_deployment(const DaemonOptions& options) {
    if (!options.config_path.empty()) return config::load_file(options.config_path);
    if (options.demo) return config::load_string(config::embedded_demo_yaml(), "<embedded demo>");
    return config::Deployment{};
}

// Serves until a stop signal. Everything here runs on the control thread.
void serve(const config::DataplaneSpec& spec, std::optional<gid_t> socket_group,
           std::chrono::milliseconds client_idle_timeout, int signal_fd, int cluster_fd,
           std::vector<cluster::SavedEndpoint> saved, CommandContext& ctx) {
    EventLoop loop;
    std::atomic<bool> stop{false};
    loop.add(signal_fd, EPOLLIN, [&](std::uint32_t) {
        signalfd_siginfo info;
        while (read(signal_fd, &info, sizeof info) == sizeof info) stop = true;
    });

    CommandRegistry registry;
    register_all_commands(registry, ctx);
    ControlServer server(
        loop, registry,
        ServerOptions{.path = spec.socket_path, .group = socket_group, .idle_timeout = client_idle_timeout});
    if (auto st = server.start(); !st) {
        log("control socket: " + st.message());
        return;
    }

    // The cluster agent's threads signal a changed store view through an eventfd.
    std::optional<ClusterSync> cluster_sync;
    if (cluster_fd >= 0) {
        cluster_sync.emplace(ctx.state, *ctx.state.cluster(), std::move(saved));
        loop.add(cluster_fd, EPOLLIN, [&](std::uint32_t) {
            std::uint64_t count;
            if (read(cluster_fd, &count, sizeof count) == sizeof count) cluster_sync->on_view_changed();
        });
    }

    auto watcher = attach::LinkWatcher::open();
    if (watcher) {
        loop.add(watcher->fd(), EPOLLIN, [&](std::uint32_t) {
            for (const auto& link : watcher->drain_deleted()) ctx.state.on_link_deleted(link.ifindex, link.name);
        });
    } else {
        log("link watcher unavailable: " + watcher.message());
    }

    const std::uint64_t max_age = std::uint64_t{spec.mac_ageing_s} * rte_get_tsc_hz();
    loop.run_every(std::chrono::seconds(1), [&] {
        ctx.dataplane.macs().expire(rte_rdtsc(), max_age);
        // Learned VTEPs unseen for the MAC ageing time go, with their MAC entries.
        ctx.dataplane.vteps().expire(rte_rdtsc(), max_age,
                                     [&](PortId port) { ctx.dataplane.macs().flush_port(port); });
        ctx.state.check_namespaces();
    });
    // Conntrack expiry in slices: the whole table every kConntrackSweep, not
    // in one pass a second (64 MB through the caches at 1M flows).
    nat::Conntrack& ct = ctx.dataplane.conntrack();
    const std::uint32_t slice = std::max<std::uint32_t>(
        kConntrackMinSlice, ct.slots() / static_cast<std::uint32_t>(kConntrackSweep / kConntrackTick));
    loop.run_every(kConntrackTick, [&ct, slice] { ct.expire(rte_rdtsc(), slice); });

    log("ready: control socket " + spec.socket_path);
    loop.run(stop);
    log("stopping");
    if (cluster_fd >= 0) loop.remove(cluster_fd);
}

nat::ConntrackOptions conntrack_options(const config::NatSpec& spec) {
    nat::ConntrackOptions o;
    o.capacity = spec.capacity;
    o.port_lo = spec.port_lo;
    o.port_hi = spec.port_hi;
    o.timeouts = spec.timeouts;
    o.flows_per_source = spec.flows_per_source;
    return o;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
    const int signal_fd = block_stop_signals();
    auto deployment = load_deployment(options);
    if (!deployment) {
        log(deployment.message());
        return 1;
    }
    if (options.socket_path) deployment->dataplane.socket_path = *options.socket_path;
    // The YAML's cluster section, unless the command line names etcd.
    DaemonOptions effective = options;
    if (effective.etcd.empty() && deployment->cluster) {
        effective.etcd = deployment->cluster->etcd;
        effective.host_name = deployment->cluster->host_name;
        effective.cluster_lease_ttl_s = deployment->cluster->lease_ttl_s;
    }
    if (!effective.etcd.empty() && effective.host_name.empty()) {
        char name[256] = {};
        gethostname(name, sizeof name - 1);
        effective.host_name = name;
    }
    if (!effective.etcd.empty() && !deployment->uplink) {
        log("--etcd needs an uplink: its address is this host's VTEP");
        return 1;
    }
    // Saved endpoints on global networks are restored once the store answers (control/cluster_sync).
    std::vector<cluster::SavedEndpoint> saved = cluster::split_global(*deployment);
    if (effective.etcd.empty() && !saved.empty()) {
        log("the configuration has endpoints on global networks (scope: global): they need a cluster (--etcd)");
        return 1;
    }
    const config::DataplaneSpec& spec = deployment->dataplane;

    std::vector<std::string> eal_args = spec.eal_args;
    eal_args.insert(eal_args.end(), options.eal_args.begin(), options.eal_args.end());
    auto eal = dataplane::start_eal(
        {.program_name = "dpdockd",
         .file_prefix = {},  // "dpdock-<pid>": swept by the next start after a crash
         .workers = spec.workers,
         .memory_mb = spec.memory_mb,
         .extra_args = eal_args,
         .budget = dataplane::estimate_memory(spec.mbufs, deployment->nat.capacity, spec.mac_table_size)});
    if (!eal) {
        log("EAL: " + eal.message());
        return 1;
    }
    log(std::string("EAL started ") + (eal->hugepages ? "with hugepages" : "without hugepages (--no-huge)") + ": " +
        eal->memory_note);

    int exit_code = 0;
    {
        auto dp = dataplane::Dataplane::start({.worker_lcores = eal->worker_lcores,
                                               .burst = spec.burst,
                                               .mbufs = spec.mbufs,
                                               .rx_ring = spec.rx_ring,
                                               .tx_ring = spec.tx_ring,
                                               .mac_table_size = spec.mac_table_size,
                                               .idle_sleep_us = spec.idle_sleep_us,
                                               .idle_sleep_max_us = spec.idle_sleep_max_us,
                                               .idle_poll_us = spec.idle_poll_us,
                                               .spread_flows = spec.spread_flows,
                                               .conntrack = conntrack_options(deployment->nat),
                                               .icmp_errors_per_s = spec.icmp_errors_per_s,
                                               .icmp_errors_burst = spec.icmp_errors_burst});
        if (!dp) {
            log("dataplane: " + dp.message());
            exit_code = 1;
        } else {
            const TelemetryScope telemetry(**dp);
            // The agent outlives State, whose shutdown gives back this host's endpoints.
            int cluster_fd = -1;
            std::unique_ptr<cluster::Agent> agent;
            if (!effective.etcd.empty()) {
                cluster_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                agent = std::make_unique<cluster::Agent>(
                    cluster::AgentOptions{.etcd = {.endpoints = effective.etcd},
                                          .host = effective.host_name,
                                          .lease_ttl_s = effective.cluster_lease_ttl_s},
                    [cluster_fd] {
                        const std::uint64_t one = 1;
                        [[maybe_unused]] auto n = write(cluster_fd, &one, sizeof one);
                    });
                agent->start(deployment->uplink->address.address());
            }
            State state(**dp);
            state.set_cluster(agent.get());
            for (const auto& name : drop_vanished_docker_endpoints(*deployment)) {
                log("Docker endpoint " + name + " went while dpdockd was down: dropped");
            }
            if (auto st = state.apply(*deployment); !st) {
                log(st.message());
                exit_code = 1;
            } else {
                CommandContext ctx{.state = state,
                                   .dataplane = **dp,
                                   .config_path = options.config_path,
                                   .policy = options.policy,
                                   .registry = nullptr,
                                   .stats_baseline = {},
                                   .port_baseline = {}};
                serve(spec, options.socket_group, options.client_idle_timeout, signal_fd, cluster_fd, std::move(saved),
                      ctx);
            }
            state.clear();
            state.set_cluster(nullptr);
            agent.reset();
            if (cluster_fd >= 0) close(cluster_fd);
        }
    }
    dataplane::stop_eal();
    close(signal_fd);
    return exit_code;
}

}  // namespace dpdock::control
