// VXLAN header build micro-benchmark: the 50 bytes of outer Ethernet, IPv4
// (checksum included), UDP and VXLAN that encapsulation writes per packet,
// with the flow-hash source port, over a burst's worth of buffers.
// `dpdock_microbench --benchmark_filter=Vxlan`.
#include <array>
#include <cstdint>

#include <benchmark/benchmark.h>

#include "vxlan/fastpath/vxlan_header.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kBurst = 32;

void BM_VxlanWriteOuter(benchmark::State& state) {
    std::array<std::array<std::uint8_t, vxlan::kEncapLen>, kBurst> out{};
    vxlan::OuterHeader h;
    h.src = Ipv4Address(0xc0a84f02);
    h.dst = Ipv4Address(0xc0a84f01);
    h.vni = 300;
    std::uint32_t hash = 0x9e3779b9;
    for (auto _ : state) {
        for (auto& buf : out) {
            hash = hash * 2654435761u + 1;  // a different flow per packet
            ++h.ip_id;
            vxlan::write_outer(buf.data(), h, 1000, vxlan::source_port(hash));
        }
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

BENCHMARK(BM_VxlanWriteOuter);

}  // namespace
}  // namespace dpdock::bench
