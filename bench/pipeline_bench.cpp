// Pipeline micro-benchmarks: whole worker loop iterations (worker_poll: rx
// burst, the pipeline, tx buffers, flush, quiescent state) over the ring-port
// loop of bench/pipeline_rig.hpp, 64-byte frames, per topology:
// - BM_PipelineL2/N: N source MACs to a static destination (bridge only);
//   BM_PipelineL2Burst/B: 1 MAC, bursts of B packets instead of 32;
// - BM_PipelineVxlanEncap/P: a member port to 100 remote MACs behind P peer
//   VTEPs, encapsulated out of the uplink;
// - BM_PipelineVxlanDecap/N: VXLAN from one peer into the uplink, the inner
//   frames bridged to a member port; N more overlay networks on the host;
// - BM_PipelineDnat/N: 10,000 UDP flows from outside into the uplink, spread
//   over N published ports of one container (flows created in the warm-up:
//   steady state);
// - BM_PipelineSnat/N: N UDP flows from a member port out of the uplink,
//   MASQUERADE'd (flows created in the warm-up);
// - BM_PipelineSnatNetworks/N: BM_PipelineSnat/1000 on a host with N more
//   networks (the routing stage's network lookup);
// BM_PipelineL2Exception / BM_PipelineDnatException: the same with the
// exception path on (dpdock0 polled, punt rings drained by this worker);
// and the same-run baseline BM_IoForward: rx burst + tx burst and nothing else
// (testpmd's io forward) on the same rig. Only worker_poll is timed, in TSC
// ticks: the counter cycles_per_packet (mean) is directly comparable with the
// throughput harness's; median_cycles_per_packet (the median burst) leaves
// out the bursts in which the thread was preempted. BM_IoForward's figure
// is the ring wire's share of either. `dpdock_microbench --benchmark_filter=Pipeline|IoForward`.
#include <algorithm>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "bench/bench_eal.hpp"
#include "bench/pipeline_rig.hpp"
#include "dataplane/fastpath/worker.hpp"

namespace dpdock::bench {
namespace {

template <typename Poll>
void run_loop(benchmark::State& state, PipelineRig& rig, Poll&& poll) {
    const double hz = static_cast<double>(rte_get_tsc_hz());
    std::uint64_t ticks = 0;
    std::uint64_t packets = 0;
    std::vector<std::uint64_t> bursts;  // ticks of each iteration, for the median
    bursts.reserve(1 << 20);
    for (auto _ : state) {
        rig.prepare_burst();
        const std::uint64_t start = rte_rdtsc_precise();
        const std::uint64_t n = poll();
        const std::uint64_t spent = rte_rdtsc_precise() - start;
        if (n != rig.burst) {
            state.SkipWithError("the loop lost packets");
            break;
        }
        ticks += spent;
        packets += n;
        bursts.push_back(spent);
        state.SetIterationTime(static_cast<double>(spent) / hz);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["cycles_per_packet"] = cycles_per_packet(ticks, packets);
    // The mean above includes every time slice the benchmark thread lost
    // inside a timed burst (a few bursts, each costing a whole slice); the
    // median burst does not, and is what to read on a loaded machine.
    if (!bursts.empty()) {
        const auto mid = bursts.begin() + static_cast<std::ptrdiff_t>(bursts.size() / 2);
        std::nth_element(bursts.begin(), mid, bursts.end());
        state.counters["median_cycles_per_packet"] = cycles_per_packet(*mid, rig.burst);
    }
}

void run_pipeline(benchmark::State& state, Topology topology, std::uint32_t arg, bool exception = false,
                  unsigned burst = kPipelineBurst) {
    std::string error;
    PipelineRig* rig = pipeline_rig(topology, arg, &error, exception);
    if (rig == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    rig->set_burst(burst);
    run_loop(state, *rig, [rig] { return dataplane::worker_poll(rig->ctx); });
    rig->set_burst(kPipelineBurst);
}

std::uint32_t arg0(const benchmark::State& state) { return static_cast<std::uint32_t>(state.range(0)); }

void BM_PipelineL2(benchmark::State& state) { run_pipeline(state, Topology::L2, arg0(state)); }
// L2 with 1 MAC in partial bursts of N packets, as a worker that keeps up
// with its port receives them: the per-iteration cost shows per packet.
void BM_PipelineL2Burst(benchmark::State& state) {
    run_pipeline(state, Topology::L2, 1, false, static_cast<unsigned>(state.range(0)));
}
void BM_PipelineVxlanEncap(benchmark::State& state) { run_pipeline(state, Topology::VxlanEncap, arg0(state)); }
void BM_PipelineVxlanDecap(benchmark::State& state) { run_pipeline(state, Topology::VxlanDecap, arg0(state)); }
void BM_PipelineDnat(benchmark::State& state) { run_pipeline(state, Topology::Dnat, arg0(state)); }
void BM_PipelineSnat(benchmark::State& state) { run_pipeline(state, Topology::Snat, arg0(state)); }
void BM_PipelineSnatNetworks(benchmark::State& state) { run_pipeline(state, Topology::SnatNetworks, arg0(state)); }
// The same two with the exception path on (issue 15: it must not cost the fast path).
void BM_PipelineL2Exception(benchmark::State& state) { run_pipeline(state, Topology::L2, arg0(state), true); }
void BM_PipelineDnatException(benchmark::State& state) { run_pipeline(state, Topology::Dnat, arg0(state), true); }

// testpmd's io forward on the L2 rig: the cost of the wire alone.
void BM_IoForward(benchmark::State& state) {
    std::string error;
    PipelineRig* rig = pipeline_rig(Topology::L2, 1, &error);
    if (rig == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    run_loop(state, *rig, [rig] {
        rte_mbuf* pkts[kPipelineBurst];
        const std::uint16_t n = rte_eth_rx_burst(rig->in, 0, pkts, kPipelineBurst);
        const std::uint16_t sent = rte_eth_tx_burst(rig->out, 0, pkts, n);
        for (std::uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
        rig->rcu->quiescent(0);
        return std::uint64_t{sent};
    });
}

BENCHMARK(BM_IoForward)->UseManualTime();
BENCHMARK(BM_PipelineL2)->Arg(1)->Arg(1'000)->Arg(100'000)->UseManualTime();
BENCHMARK(BM_PipelineL2Burst)->Arg(4)->Arg(8)->Arg(16)->UseManualTime();
BENCHMARK(BM_PipelineL2Exception)->Arg(1)->Arg(1'000)->Arg(100'000)->UseManualTime();
BENCHMARK(BM_PipelineVxlanEncap)->Arg(1)->Arg(100)->UseManualTime();
BENCHMARK(BM_PipelineVxlanDecap)->Arg(0)->Arg(64)->UseManualTime();
BENCHMARK(BM_PipelineDnat)->Arg(1)->Arg(10'000)->UseManualTime();
BENCHMARK(BM_PipelineSnat)->Arg(1'000)->Arg(100'000)->UseManualTime();
BENCHMARK(BM_PipelineSnatNetworks)->Arg(0)->Arg(100)->UseManualTime();
BENCHMARK(BM_PipelineDnatException)->Arg(1)->Arg(10'000)->UseManualTime();

}  // namespace
}  // namespace dpdock::bench
