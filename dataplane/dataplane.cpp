#include "dataplane/dataplane.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "dataplane/fastpath/worker.hpp"
#include "dataplane/mempool.hpp"
#include "dataplane/port.hpp"

namespace dpdock::dataplane {

Dataplane::Dataplane(const DataplaneOptions& options) : options_(options) {}

Result<std::unique_ptr<Dataplane>> Dataplane::start(const DataplaneOptions& options) {
    using R = Result<std::unique_ptr<Dataplane>>;
    if (options.worker_lcores.empty()) return R::error("at least one worker lcore is needed");
    if (options.burst == 0 || options.burst > kMaxBurst) {
        return R::error("burst must be 1.." + std::to_string(kMaxBurst));
    }
    std::unique_ptr<Dataplane> dp(new Dataplane(options));
    const int socket = static_cast<int>(rte_socket_id());

    auto pool = create_packet_pool("dpdock_pkts", options.mbufs, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!pool) return R::error(pool.message());
    dp->pool_ = *pool;
    auto indirect = create_indirect_pool("dpdock_indirect", options.mbufs, socket);
    if (!indirect) return R::error(indirect.message());
    dp->indirect_pool_ = *indirect;

    auto rcu = sync::Rcu::create(static_cast<unsigned>(options.worker_lcores.size()));
    if (!rcu) return R::error(rcu.message());
    dp->rcu_ = std::move(*rcu);
    dp->snapshot_ = std::make_unique<sync::Snapshot<dataplane::ForwardingSnapshot>>(*dp->rcu_);
    dp->snapshot_->publish(std::make_unique<dataplane::ForwardingSnapshot>());

    auto macs = bridge::MacTable::create({.name = "dpdock_macs",
                                          .capacity = options.mac_table_size,
                                          .refresh_ticks = rte_get_tsc_hz(),
                                          .socket_id = socket,
                                          .qsbr = dp->rcu_->qsbr()});
    if (!macs) return R::error(macs.message());
    dp->macs_ = std::move(*macs);

    auto neighbours = l3::NeighbourTable::create("dpdock_neigh", kNeighbourTableSize, socket, dp->rcu_->qsbr());
    if (!neighbours) return R::error(neighbours.message());
    dp->neighbours_ = std::move(*neighbours);

    auto vteps = vxlan::VtepTable::create("dpdock_vteps", socket, dp->rcu_->qsbr());
    if (!vteps) return R::error(vteps.message());
    dp->vteps_ = std::move(*vteps);

    nat::ConntrackOptions ct = options.conntrack;
    ct.name = "dpdock_ct";
    ct.hz = rte_get_tsc_hz();
    ct.socket = socket;
    ct.qsbr = dp->rcu_->qsbr();
    auto conntrack = nat::Conntrack::create(ct);
    if (!conntrack) return R::error(conntrack.message());
    dp->conntrack_ = std::move(*conntrack);

    auto doorbells = Doorbells::create(static_cast<unsigned>(options.worker_lcores.size()));
    if (!doorbells) return R::error(doorbells.message());
    dp->doorbells_ = std::move(*doorbells);
    // Replies wake worker 0 (any worker may send them); polling workers need no doorbell.
    dp->dns_ = dns::DnsService::start(rte_socket_id(), options.idle_sleep_us != 0 ? &dp->doorbells_->of(0) : nullptr);
    if (!dp->dns_) return R::error("cannot start the DNS thread (rings, socket or doorbell)");
    if (auto st = dp->launch_workers(); !st) return R::error(st.message());
    return dp;
}

Status Dataplane::launch_workers() {
    const int socket = static_cast<int>(rte_socket_id());
    auto punt = exception::PuntRings::create("dpdock_punt", static_cast<unsigned>(options_.worker_lcores.size()), socket);
    if (!punt) return Status::error(punt.message());
    punt_rings_ = std::move(*punt);
    capture_ = std::make_unique<capture::CaptureService>(static_cast<unsigned>(options_.worker_lcores.size()), socket);
    if (options_.spread_flows && options_.worker_lcores.size() > 1) {
        auto spread = SpreadRings::create("dpdock_spread", static_cast<unsigned>(options_.worker_lcores.size()), socket);
        if (!spread) return Status::error(spread.message());
        spread_rings_ = std::move(*spread);
    }
    for (unsigned i = 0; i < options_.worker_lcores.size(); ++i) {
        counters_.push_back(std::make_unique<sync::WorkerCounters>());
        rule_counters_.push_back(std::make_unique<nat::RuleCounters>());
        auto ctx = std::make_unique<WorkerContext>();
        ctx->index = i;
        ctx->burst = options_.burst;
        ctx->idle_sleep_us = options_.idle_sleep_us;
        ctx->idle_sleep_max_us = options_.idle_sleep_max_us;
        ctx->idle_poll_cycles = std::uint64_t{options_.idle_poll_us} * (rte_get_tsc_hz() / 1000000);  // no overflow for any idle-poll-us
        ctx->snapshot = snapshot_.get();
        ctx->macs = macs_.get();
        ctx->neighbours = neighbours_.get();
        ctx->conntrack = conntrack_.get();
        ctx->vteps = vteps_.get();
        ctx->pool = pool_;
        ctx->indirect_pool = indirect_pool_;
        ctx->fragment_ticks = rte_get_tsc_hz();
        ctx->rcu = rcu_.get();
        ctx->counters = counters_.back().get();
        ctx->rule_counters = rule_counters_.back().get();
        ctx->stop = &stop_;
        kernel_scratch_.push_back(std::make_unique<KernelPortScratch>());
        ctx->kernel = kernel_scratch_.back().get();
        ctx->punt = punt_rings_->of(i);
        ctx->punt_rings = &punt_rings_->all();
        ctx->capture = &capture_->tap();
        ctx->dns = &dns_->rings();
        ctx->spread = spread_rings_.get();
        ctx->doorbells = options_.idle_sleep_us != 0 ? doorbells_.get() : nullptr;  // pure polling: nobody sleeps
        ctx->icmp.limit.configure(rte_get_tsc_hz(), options_.icmp_errors_per_s, options_.icmp_errors_burst);
        if (auto st = ctx->tx.init(static_cast<std::uint16_t>(i), options_.burst, ctx->counters, socket,
                                    {pool_, indirect_pool_});
            !st) {
            return st;
        }
        contexts_.push_back(std::move(ctx));
    }
    for (unsigned i = 0; i < contexts_.size(); ++i) {
        const unsigned lcore = options_.worker_lcores[i];
        if (rte_eal_remote_launch(&worker_main, contexts_[i].get(), lcore) != 0) {
            stop_workers();
            return Status::error("cannot launch a worker on lcore " + std::to_string(lcore));
        }
        workers_running_ = true;
    }
    return {};
}

void Dataplane::stop_workers() {
    stop_.store(true, std::memory_order_relaxed);
    if (workers_running_) {
        for (unsigned lcore : options_.worker_lcores) rte_eal_wait_lcore(lcore);
    }
    workers_running_ = false;
}

Dataplane::~Dataplane() {
    stop_workers();
    dns_.reset();  // its mbufs go back to the pool while the pool exists
    // Workers are gone: no reader can hold a port any more.
    while (!ports_.empty()) {
        const PortId port = ports_.begin()->first;
        dataplane::remove_port(port);
        ports_.erase(port);
    }
    kernel_scratch_.clear();  // holds mbufs of the pool
    punt_rings_.reset();      // so do the punt rings
    spread_rings_.reset();    // and the rings between workers
    capture_.reset();         // and the capture's copies
    macs_.reset();
    neighbours_.reset();  // hashes attached to the RCU variable go before it
    vteps_.reset();
    conntrack_.reset();
    snapshot_.reset();
    rcu_.reset();
    if (pool_ != nullptr) rte_mempool_free(pool_);
    if (indirect_pool_ != nullptr) rte_mempool_free(indirect_pool_);
}

namespace {

// The device may have queued frames before it was bound to its interface
// (DPDK 22.11's af_packet listens on every interface of the namespace until
// then): none of them may reach a network, so whatever is there now goes.
// Bounded (a few rings' worth), since a busy link never runs dry.
void drain_rx(PortId port, std::uint16_t rx_queues, std::uint32_t ring) {
    rte_mbuf* pkts[kMaxBurst];
    for (std::uint16_t q = 0; q < rx_queues; ++q) {
        std::uint16_t n;
        for (std::uint32_t drained = 0; drained < 4 * ring && (n = rte_eth_rx_burst(port, q, pkts, kMaxBurst)) != 0;
             drained += n) {
            rte_pktmbuf_free_bulk(pkts, n);
        }
    }
}

}  // namespace

PortOptions Dataplane::port_options(std::uint16_t rx_queues, std::uint32_t mtu) const {
    PortOptions options;
    options.rx_queues = rx_queues;
    options.tx_queues = static_cast<std::uint16_t>(contexts_.size());
    options.rx_ring = options_.rx_ring;
    options.tx_ring = options_.tx_ring;
    options.pool = pool_;
    options.mtu = mtu;
    return options;
}

Result<PortId> Dataplane::add_port(const std::string& devargs, std::uint32_t mtu) {
    // "kernel:IFNAME" is no DPDK driver: dpdock's own port on a kernel
    // interface (an uplink veth, say), which reads the sender's offload
    // metadata where net_af_packet cannot.
    if (devargs.starts_with(kKernelPortDevargs)) {
        return add_kernel_port(devargs.substr(kKernelPortDevargs.size()), mtu);
    }
    auto port = probe_port(devargs);
    if (!port) return port;
    const PortOptions options = port_options(rx_queues_needed(*port, static_cast<std::uint16_t>(contexts_.size())), mtu);
    if (auto st = configure_and_start_port(*port, options); !st) {
        dataplane::remove_port(*port);
        return Result<PortId>::error(st.message());
    }
    drain_rx(*port, options.rx_queues, options.rx_ring);
    return register_port(*port, PortRecord{devargs, 0, options.rx_queues, {}, 0, nullptr,
                                           rx_wake_fds(*port, options.rx_queues), rx_queue_follows_tx(*port)});
}

MacAddress Dataplane::port_mac(PortId port) const {
    const auto it = ports_.find(port);
    if (it != ports_.end() && it->second.kernel) return it->second.kernel->mac();
    return dataplane::port_mac(port);
}

Result<PortId> Dataplane::add_kernel_port(const std::string& ifname, std::uint32_t mtu) {
    // The rings are as deep as the rx descriptors a device would get.
    auto kernel = KernelPort::open(ifname, static_cast<std::uint16_t>(contexts_.size()), options_.rx_ring);
    if (!kernel) return Result<PortId>::error(kernel.message());
    const PortId port = (*kernel)->port();
    if (auto st = configure_and_start_port(port, port_options(1, mtu)); !st) {
        dataplane::remove_port(port);
        return Result<PortId>::error(st.message());
    }
    const int fd = (*kernel)->io().fd;
    return register_port(port,
                         PortRecord{std::string(kKernelPortDevargs) + ifname, 0, 1, {}, 0, std::move(*kernel), {fd}});
}

PortId Dataplane::register_port(PortId port, PortRecord record) {
    // The least loaded worker polls it, for as long as the port lives: moving
    // an rx queue between workers would need both to agree on a hand-over.
    std::vector<unsigned> load(contexts_.size(), 0);
    for (const auto& [id, r] : ports_) ++load[r.worker];
    unsigned worker = 0;
    for (unsigned w = 1; w < load.size(); ++w) {
        if (load[w] < load[worker]) worker = w;
    }
    record.worker = worker;
    record.serial = next_serial_++;
    ports_[port] = std::move(record);
    ports_[port].baseline = port_counters(port);
    return port;
}

Status Dataplane::remove_port(PortId port) {
    auto it = ports_.find(port);
    if (it == ports_.end()) return Status::error("no port " + std::to_string(port));
    if (current().ports[port].role != dataplane::PortRole::Unused) {
        return Status::error("port " + std::to_string(port) + " is still in the forwarding snapshot");
    }
    // The snapshot without the port is published; one more grace period makes
    // sure no worker is still inside a burst that read the older one.
    rcu_->synchronize();
    macs_->flush_port(port);
    // A kernel port's socket and rings outlive its ethdev, which uses the rings.
    const std::unique_ptr<KernelPort> kernel = std::move(it->second.kernel);
    ports_.erase(it);
    return dataplane::remove_port(port);
}

void Dataplane::publish(std::unique_ptr<dataplane::ForwardingSnapshot> snap) {
    snap->rx_queues.assign(contexts_.size(), {});
    snap->kernel_ports.clear();
    snap->spread = {};
    for (const auto& [port, record] : ports_) {
        if (snap->ports[port].role == dataplane::PortRole::Unused) continue;
        const KernelPortIo* kernel = record.kernel ? &record.kernel->io() : nullptr;
        // Spreading: a port with several rx queues has them polled by
        // different workers, starting at its home; one with a single queue has
        // its flows handed out by the home worker (fastpath/spread.hpp).
        const auto workers = static_cast<unsigned>(contexts_.size());
        if (spread_rings_) {
            snap->spread[port] = {record.rx_queues > 1 ? SpreadMode::Queues : SpreadMode::Flows,
                                  static_cast<std::uint8_t>(record.worker)};
        }
        for (std::uint16_t q = 0; q < record.rx_queues; ++q) {
            const unsigned worker = !spread_rings_              ? record.worker
                                    : record.rx_queue_per_worker ? q % workers
                                                                 : (record.worker + q) % workers;
            const int wake_fd = q < record.wake_fds.size() ? record.wake_fds[q] : -1;
            snap->rx_queues[worker].push_back({port, q, kernel, wake_fd});
        }
        if (kernel != nullptr) snap->kernel_ports.push_back(kernel);
        // A kernel port hands super-frames and partial checksums to the kernel as they are.
        if (kernel != nullptr) snap->offload_ports |= std::uint64_t{1} << port;
        if (snap->host && snap->host->port == port) snap->host->worker = record.worker;
    }
    snapshot_->publish(std::move(snap));
}

std::vector<sync::WorkerCounters> Dataplane::read_counters() const {
    std::vector<sync::WorkerCounters> out;
    out.reserve(counters_.size());
    for (const auto& c : counters_) out.push_back(sync::read_counters(*c));
    return out;
}

}  // namespace dpdock::dataplane

namespace dpdock::dataplane {

sync::PortCounters Dataplane::port_counters(PortId port) const {
    sync::PortCounters sum;
    for (const auto& c : counters_) {
        const sync::PortCounters& pc = c->ports[port];
        sum.rx_packets += sync::load(pc.rx_packets);
        sum.rx_bytes += sync::load(pc.rx_bytes);
        sum.tx_packets += sync::load(pc.tx_packets);
        sum.tx_bytes += sync::load(pc.tx_bytes);
        for (std::size_t r = 0; r < kDropReasonCount; ++r) sum.drops[r] += sync::load(pc.drops[r]);
    }
    if (auto it = ports_.find(port); it != ports_.end()) sum -= it->second.baseline;
    return sum;
}

}  // namespace dpdock::dataplane

namespace dpdock::dataplane {

nat::RuleCounter Dataplane::rule_counter(std::uint32_t slot) const {
    nat::RuleCounter sum;
    if (slot >= nat::kMaxRuleSlots) return sum;
    for (const auto& c : rule_counters_) {
        sum.packets += sync::load(c->slots[slot].packets);
        sum.bytes += sync::load(c->slots[slot].bytes);
    }
    return sum;
}

}  // namespace dpdock::dataplane
