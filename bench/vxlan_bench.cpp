// VXLAN header micro-benchmark: the 50 bytes of outer Ethernet, IPv4
// (checksum included), UDP and VXLAN that encapsulation writes per packet
// from the VTEP's prebuilt template, with the flow-hash source port, over a
// burst's worth of buffers.
// `dpdock_microbench --benchmark_filter=Vxlan`.
#include <array>
#include <cstdint>

#include <benchmark/benchmark.h>

#include "vxlan/fastpath/vxlan_header.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kBurst = 32;

void BM_VxlanStampOuter(benchmark::State& state) {
    std::array<std::array<std::uint8_t, vxlan::kEncapLen>, kBurst> out{};
    vxlan::OuterHeader h;
    h.src = Ipv4Address(0xc0a84f02);
    h.dst = Ipv4Address(0xc0a84f01);
    h.vni = 300;
    vxlan::OuterTemplate t;
    const MacAddress next_hop = MacAddress::from_u64(0x020000000001ULL);
    vxlan::build_template(t, h, MacAddress::from_u64(0x020000000003ULL), &next_hop);
    std::uint32_t hash = 0x9e3779b9;
    std::uint16_t ip_id = 0;
    for (auto _ : state) {
        for (auto& buf : out) {
            hash = hash * 2654435761u + 1;  // a different flow per packet
            vxlan::stamp(buf.data(), t, 1000, ++ip_id, vxlan::source_port(hash));
        }
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

BENCHMARK(BM_VxlanStampOuter);

}  // namespace
}  // namespace dpdock::bench
