// Header parsing micro-benchmark: parse_packet over one burst of cache-warm
// frames, as the classify stage runs it: 64-byte IPv4/UDP, IPv4/TCP, a VLAN-
// tagged IPv4/UDP frame and IPv6/UDP. Reports TSC cycles per packet.
// `dpdock_microbench --benchmark_filter=Parse`.
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>

#include "bench/bench_eal.hpp"
#include "dataplane/mempool.hpp"
#include "base/packet/parse.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kBurst = 32;

enum class Kind { Udp4, Tcp4, VlanUdp4, Udp6 };

std::vector<std::uint8_t> frame(Kind kind) {
    const auto dst = MacAddress::from_u64(0x020000000002ULL);
    const auto src = MacAddress::from_u64(0x021000000001ULL);
    const auto a = Ipv4Address::parse("10.100.0.1").value();
    const auto b = Ipv4Address::parse("10.99.0.2").value();
    test::PacketBuilder builder;
    builder.eth(dst, src);
    switch (kind) {
        case Kind::Udp4: builder.ipv4(a, b).udp(1024, 9); break;
        case Kind::Tcp4: builder.ipv4(a, b).tcp(1024, 80); break;
        case Kind::VlanUdp4: builder.vlan(100).ipv4(a, b).udp(1024, 9); break;
        case Kind::Udp6: builder.ipv6(test::Ipv6Bytes{0xfd}, test::Ipv6Bytes{0xfd, 1}).udp(1024, 9); break;
    }
    return builder.pad_to(60).build();
}

void BM_ParseBurst(benchmark::State& state, Kind kind) {
    ensure_bench_eal();
    static rte_mempool* pool = nullptr;
    if (pool == nullptr) {
        auto created = dataplane::create_packet_pool("parse_bench", 4 * kBurst, RTE_PKTMBUF_HEADROOM + 256,
                                                     static_cast<int>(rte_socket_id()));
        if (!created) {
            state.SkipWithError(created.message().c_str());
            return;
        }
        pool = *created;
    }
    std::vector<rte_mbuf*> burst;
    const auto bytes = frame(kind);
    for (unsigned i = 0; i < kBurst; ++i) burst.push_back(test::to_mbuf(pool, bytes));
    std::uint64_t ticks = 0;
    for (auto _ : state) {
        const std::uint64_t start = rte_rdtsc();
        for (rte_mbuf* m : burst) benchmark::DoNotOptimize(parse_packet(m));
        ticks += rte_rdtsc() - start;
    }
    for (rte_mbuf* m : burst) rte_pktmbuf_free(m);
    const std::uint64_t packets = state.iterations() * kBurst;
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["cycles_per_packet"] = cycles_per_packet(ticks, packets);
}

BENCHMARK_CAPTURE(BM_ParseBurst, udp4, Kind::Udp4);
BENCHMARK_CAPTURE(BM_ParseBurst, tcp4, Kind::Tcp4);
BENCHMARK_CAPTURE(BM_ParseBurst, vlan_udp4, Kind::VlanUdp4);
BENCHMARK_CAPTURE(BM_ParseBurst, udp6, Kind::Udp6);

}  // namespace
}  // namespace dpdock::bench
