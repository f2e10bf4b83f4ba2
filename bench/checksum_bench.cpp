// Checksum update micro-benchmark: the RFC 1624 patches NAT applies per
// packet (one IPv4 address in the IP header and the UDP checksum, one port),
// over a burst's worth of headers, against a full IPv4 header recomputation.
// `dpdock_microbench --benchmark_filter=Checksum`.
#include <array>

#include <benchmark/benchmark.h>
#include <rte_ip.h>

#include "base/packet/checksum.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kBurst = 32;

struct Headers {
    rte_ipv4_hdr ip;
    std::uint16_t udp_port;
    std::uint16_t udp_csum;
};

std::array<Headers, kBurst> make_headers() {
    std::array<Headers, kBurst> h{};
    for (unsigned i = 0; i < kBurst; ++i) {
        h[i].ip.version_ihl = 0x45;
        h[i].ip.total_length = rte_cpu_to_be_16(46);
        h[i].ip.time_to_live = 64;
        h[i].ip.next_proto_id = 17;
        h[i].ip.src_addr = rte_cpu_to_be_32(0x0a640000 + i);
        h[i].ip.dst_addr = rte_cpu_to_be_32(0x0a630002);
        h[i].ip.hdr_checksum = rte_ipv4_cksum(&h[i].ip);
        h[i].udp_port = rte_cpu_to_be_16(static_cast<std::uint16_t>(1024 + i));
        h[i].udp_csum = 0x1234;
    }
    return h;
}

void BM_ChecksumUpdateSnat(benchmark::State& state) {
    auto headers = make_headers();
    const std::uint32_t outside = rte_cpu_to_be_32(0xc0a80101);
    const std::uint16_t port = rte_cpu_to_be_16(40000);
    for (auto _ : state) {
        for (Headers& h : headers) {
            const std::uint16_t addr_delta = csum_delta32(h.ip.src_addr, outside);
            h.ip.hdr_checksum = csum_apply(h.ip.hdr_checksum, addr_delta);
            h.udp_csum = udp_csum_apply(h.udp_csum, csum_delta_add(addr_delta, csum_delta16(h.udp_port, port)));
            h.ip.src_addr = outside;  // later rounds patch outside -> outside: same work, data-independent
        }
        benchmark::DoNotOptimize(headers);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

void BM_ChecksumFullIpv4(benchmark::State& state) {
    auto headers = make_headers();
    for (auto _ : state) {
        for (Headers& h : headers) {
            h.ip.hdr_checksum = 0;
            h.ip.hdr_checksum = rte_ipv4_cksum(&h.ip);
        }
        benchmark::DoNotOptimize(headers);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

BENCHMARK(BM_ChecksumUpdateSnat);
BENCHMARK(BM_ChecksumFullIpv4);

}  // namespace
}  // namespace dpdock::bench
