#include "bench/pipeline_rig.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "bench/bench_eal.hpp"
#include "config/model.hpp"
#include "dataplane/fastpath/worker.hpp"
#include "dataplane/mempool.hpp"
#include "dataplane/port.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kCirculating = 1024;  // a multiple of kPipelineBurst

Status make_port(const std::string& name, rte_ring* rx, rte_ring* tx, rte_mempool* pool, PortId* port) {
    const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, static_cast<unsigned>(rte_socket_id()));
    if (id < 0) return Status::error("cannot create ring port " + name);
    *port = static_cast<PortId>(id);
    dataplane::PortOptions options;
    options.pool = pool;
    return dataplane::configure_and_start_port(*port, options);
}

rte_ring* make_ring(const std::string& name) {
    return rte_ring_create(name.c_str(), 2 * kCirculating, static_cast<int>(rte_socket_id()),
                           RING_F_SP_ENQ | RING_F_SC_DEQ);
}

// The first drop reason counted, for a warm-up that lost packets.
std::string first_drop(const sync::WorkerCounters& c) {
    for (std::size_t r = 0; r < kDropReasonCount; ++r) {
        if (c.drops[r] != 0) {
            return std::to_string(c.drops[r]) + " dropped as " +
                   std::string(drop_reason_name(static_cast<DropReason>(r)));
        }
    }
    return "none dropped";
}

// The exception path's part of the rig: dpdock0 as a ring port the worker
// polls (nothing arrives on it) and the worker's punt ring, which it drains.
Status add_exception_path(PipelineRig& rig, const std::string& tag, dataplane::ForwardingSnapshot& snap) {
    rte_ring* host_rx = make_ring("pbhr" + tag);
    rte_ring* host_tx = make_ring("pbht" + tag);
    if (host_rx == nullptr || host_tx == nullptr) return Status::error("cannot create rings");
    PortId host = kNoPort;
    if (auto st = make_port("pbhost" + tag, host_rx, host_tx, rig.pool, &host); !st) return st;
    auto rings = exception::PuntRings::create("pbpunt" + tag + "_", 1, static_cast<int>(rte_socket_id()));
    if (!rings) return rings.status();
    rig.punt_rings = std::move(*rings);
    rig.ctx.punt = rig.punt_rings->of(0);
    rig.ctx.punt_rings = &rig.punt_rings->all();
    const config::ExceptionSpec defaults;
    snap.ports[host] = {dataplane::PortRole::Host, kNoNetwork};
    snap.host = dataplane::HostInfo{host, MacAddress::from_u64(0x02dd00000001ULL), 0, defaults.punt_rate,
                                    defaults.punt_burst};
    snap.rx_queues[0].push_back({host, 0});
    return {};
}

Status build(PipelineRig& rig, Topology topology, std::uint32_t arg, bool exception) {
    const std::string tag =
        std::to_string(static_cast<int>(topology)) + "_" + std::to_string(arg) + (exception ? "x" : "");
    auto pool = dataplane::create_packet_pool("pb" + tag, kCirculating + 512, RTE_PKTMBUF_HEADROOM + 256,
                                              static_cast<int>(rte_socket_id()));
    if (!pool) return Status::error(pool.message());
    rig.pool = *pool;
    rig.loop = make_ring("pbl" + tag);
    rte_ring* in_tx = make_ring("pbi" + tag);   // what the worker sends back out of `in` (nothing, when all goes well)
    rte_ring* out_rx = make_ring("pbo" + tag);  // never filled: `out` only transmits
    if (rig.loop == nullptr || in_tx == nullptr || out_rx == nullptr) return Status::error("cannot create rings");
    if (auto st = make_port("pbin" + tag, rig.loop, in_tx, rig.pool, &rig.in); !st) return st;
    if (auto st = make_port("pbout" + tag, out_rx, rig.loop, rig.pool, &rig.out); !st) return st;

    auto rcu = sync::Rcu::create(1);
    if (!rcu) return Status::error(rcu.message());
    rig.rcu = std::move(*rcu);
    auto macs = bridge::MacTable::create({.name = "pbmac" + tag,
                                          .capacity = mac_capacity(topology, arg),
                                          .refresh_ticks = rte_get_tsc_hz(),
                                          .socket_id = static_cast<int>(rte_socket_id()),
                                          .qsbr = rig.rcu->qsbr()});
    if (!macs) return Status::error(macs.message());
    rig.macs = std::move(*macs);
    rig.counters = std::make_unique<sync::WorkerCounters>();

    auto snap = std::make_unique<dataplane::ForwardingSnapshot>();
    if (auto st = setup_topology(rig, topology, arg, *snap); !st) return st;
    snap->rx_queues = {{{rig.in, 0}}};
    if (exception) {
        if (auto st = add_exception_path(rig, tag, *snap); !st) return st;
    }
    rig.snapshot = std::make_unique<sync::Snapshot<dataplane::ForwardingSnapshot>>(*rig.rcu);
    snap->index_subnets();
    rig.snapshot->publish(std::move(snap));

    rig.ctx.burst = kPipelineBurst;
    rig.ctx.snapshot = rig.snapshot.get();
    rig.ctx.macs = rig.macs.get();
    rig.ctx.pool = rig.pool;
    rig.ctx.rcu = rig.rcu.get();
    rig.ctx.counters = rig.counters.get();
    rig.ctx.stop = &rig.stop;
    if (auto st = rig.ctx.tx.init(0, kPipelineBurst, rig.counters.get(), static_cast<int>(rte_socket_id()),
                                   {rig.pool, nullptr});
        !st)
        return st;

    for (unsigned i = 0; i < kCirculating; ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(rig.pool);
        if (m == nullptr) return Status::error("mbuf pool too small");
        rig.order.push_back(m);
    }
    if (rte_ring_enqueue_bulk(rig.loop, reinterpret_cast<void* const*>(rig.order.data()), kCirculating, nullptr) !=
        kCirculating)
        return Status::error("loop ring too small");
    // The worker reads the snapshot as RCU reader 0, from now on this thread.
    rig.rcu->register_reader(0);
    rig.rcu->online(0);
    // Every distinct packet once (MACs learned, flows created), then twice
    // round the loop; all of it must have left by `out`.
    std::uint64_t sent = 0;
    for (std::uint32_t i = 0; i < rig.traffic.period / kPipelineBurst + 2 * kCirculating / kPipelineBurst; ++i) {
        rig.prepare_burst();
        sent += dataplane::worker_poll(rig.ctx);
    }
    const std::uint64_t left = rig.counters->ports[rig.out].tx_packets;
    if (left != sent) {
        return Status::error("warm-up: " + std::to_string(left) + " of " + std::to_string(sent) +
                             " packets left by the egress port, " + first_drop(*rig.counters));
    }
    return {};
}

}  // namespace

void PipelineRig::prepare_burst() {
    const std::vector<std::uint8_t>& frame = traffic.frame;
    for (unsigned i = 0; i < burst; ++i) {
        rte_mbuf* m = order[(cursor + i) % order.size()];
        // Undo what the last lap did to it (prepended or stripped headers).
        m->data_off = std::min<std::uint16_t>(RTE_PKTMBUF_HEADROOM, m->buf_len);
        m->data_len = static_cast<std::uint16_t>(frame.size());
        m->pkt_len = static_cast<std::uint32_t>(frame.size());
        m->port = in;
        auto* bytes = rte_pktmbuf_mtod(m, std::uint8_t*);
        std::memcpy(bytes, frame.data(), frame.size());
        if (traffic.vary) traffic.vary(next_packet, bytes);
        next_packet = next_packet + 1 == traffic.period ? 0 : next_packet + 1;
    }
    cursor = (cursor + burst) % order.size();
}

void PipelineRig::set_burst(unsigned packets) {
    burst = packets;
    ctx.burst = static_cast<std::uint16_t>(packets);
}

PipelineRig* pipeline_rig(Topology topology, std::uint32_t arg, std::string* error, bool exception) {
    static std::map<std::tuple<Topology, std::uint32_t, bool>, std::unique_ptr<PipelineRig>> rigs;  // kept for the run
    const auto key = std::make_tuple(topology, arg, exception);
    if (auto it = rigs.find(key); it != rigs.end()) return it->second.get();
    ensure_bench_eal();
    auto rig = std::make_unique<PipelineRig>();
    if (auto st = build(*rig, topology, arg, exception); !st) {
        *error = st.message();
        return nullptr;
    }
    return rigs.emplace(key, std::move(rig)).first->second.get();
}

}  // namespace dpdock::bench
