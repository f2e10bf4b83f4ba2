// Published-port (DNAT) rule lookup micro-benchmark: what the part of a DNAT
// packet's cost that depends on the number of published ports costs with 1
// and with 10,000 of them. Per packet, as uplink_stage and dnat_original do:
// PortMap::find of the destination port, the rule's target (address, port,
// MAC, network) read, its counter slot bumped. Host ports are visited in the
// order of bench/traffic.py's dnat scenarios (flow i to port 10000 + i % N)
// or, as a worst case, shuffled. Read the CPU time column on a shared machine.
// Not run by the tests: `dpdock_microbench --benchmark_filter=PublishedPort`.
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "nat/published_ports.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint16_t kBasePort = 10000;  // bench/traffic.py's PUBLISHED_PORT_BASE
constexpr std::uint32_t kFlows = 10000;     // the dnat scenarios' flows
constexpr unsigned kBurst = 32;

// args: published ports (one rule each, as `-p P:P/udp`), shuffled order (0/1).
void BM_PublishedPortFind(benchmark::State& state) {
    const auto ports = static_cast<std::uint32_t>(state.range(0));
    PortMap map;
    for (std::uint32_t k = 0; k < ports; ++k) {
        PublishedRule r;
        r.proto = IPPROTO_UDP;
        r.host_lo = r.host_hi = r.container_lo = static_cast<std::uint16_t>(kBasePort + k);
        r.one_container_port = true;
        r.container_ip = Ipv4Address(0x0a630002);
        r.container_mac = MacAddress({2, 0, 0, 0, 0, 2});
        r.network = 1;
        r.slot = k % kMaxRuleSlots;  // the daemon counts only the first kMaxRuleSlots rules
        r.container = "web";
        if (!map.add(r)) {
            state.SkipWithError("PortMap::add refused a rule");
            return;
        }
    }
    std::vector<std::uint16_t> order(kFlows);
    for (std::uint32_t i = 0; i < kFlows; ++i) order[i] = static_cast<std::uint16_t>(kBasePort + i % ports);
    if (state.range(1) != 0) std::shuffle(order.begin(), order.end(), std::mt19937(42));
    auto counters = std::make_unique<RuleCounters>();
    std::uint64_t sum = 0;
    std::size_t next = 0;
    for (auto _ : state) {
        for (unsigned i = 0; i < kBurst; ++i) {
            const std::uint16_t port = order[next];
            next = next + 1 == order.size() ? 0 : next + 1;
            const PublishedRule* rule = map.find(IPPROTO_UDP, port);
            sum += rule->container_ip.host() + rule->container_port(port) + rule->container_mac.to_u64() +
                   rule->network;
            RuleCounter& c = counters->slots[rule->slot];
            c.packets += 1;
            c.bytes += 60;
        }
        benchmark::DoNotOptimize(sum);
    }
    benchmark::DoNotOptimize(counters->slots[0]);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

BENCHMARK(BM_PublishedPortFind)->Args({1, 0})->Args({10000, 0})->Args({10000, 1});

}  // namespace
}  // namespace dpdock::nat
