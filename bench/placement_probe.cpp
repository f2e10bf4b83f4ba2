// placement_probe: how far apart the host has put two vCPUs, measured as the
// TSC cycles one cache line takes to go from CPU A to CPU B and back.
// Two threads, pinned to the two CPUs, ping-pong one 64-byte line (A writes
// an odd value, B answers with the next even one); A times batches of round
// trips and prints one JSON line with the median, min and max of the batches'
// per-round-trip cycles. The median shrugs off batches in which the host or
// a guest process preempted either thread. About 10 ms on this machine; it
// gives up (exit 1) after kTimeout if the other thread never answers.
// bench/run.py runs it before and after every memif run (bench/placement.py).
// Usage: placement_probe CPU_A CPU_B
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace {

constexpr int kWarmupBatches = 100;
constexpr int kBatches = 1000;
constexpr std::uint64_t kRoundTripsPerBatch = 16;
constexpr std::chrono::seconds kTimeout{2};

// The line that moves; padded so nothing else shares it.
struct alignas(64) Line {
    std::atomic<std::uint64_t> value{0};
};

std::uint64_t tsc() {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#elif defined(__aarch64__)
    std::uint64_t ticks;
    asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
    return ticks;
#else
#error "placement_probe: no cycle counter for this architecture"
#endif
}

bool pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// Waits until `line` holds `want`; false once the deadline has passed
// (checked every 4096 spins: the clock read costs more than a spin).
bool wait_for(const Line& line, std::uint64_t want, std::chrono::steady_clock::time_point deadline) {
    for (std::uint32_t spins = 1; line.value.load(std::memory_order_acquire) != want; ++spins) {
        if (spins % 4096 == 0 && std::chrono::steady_clock::now() > deadline) return false;
    }
    return true;
}

bool parse_cpu(const char* text, int& cpu) {
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 0 || value >= CPU_SETSIZE) return false;
    cpu = static_cast<int>(value);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    int cpu_a = 0;
    int cpu_b = 0;
    if (argc != 3 || !parse_cpu(argv[1], cpu_a) || !parse_cpu(argv[2], cpu_b) || cpu_a == cpu_b) {
        std::fprintf(stderr, "usage: placement_probe CPU_A CPU_B (two different CPU numbers)\n");
        return 2;
    }
    if (!pin(cpu_a)) {
        std::fprintf(stderr, "placement_probe: cannot pin to CPU %d\n", cpu_a);
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    const std::uint64_t total = (kWarmupBatches + kBatches) * kRoundTripsPerBatch;
    Line line;
    std::atomic<bool> answerer_ok{true};
    std::thread answerer([&] {
        if (!pin(cpu_b)) {
            answerer_ok = false;  // A times out waiting and reports this
            return;
        }
        for (std::uint64_t n = 0; n < total; ++n) {
            if (!wait_for(line, 2 * n + 1, deadline)) return;
            line.value.store(2 * n + 2, std::memory_order_release);
        }
    });

    std::vector<double> per_round_trip;
    per_round_trip.reserve(kBatches);
    bool answered = true;
    for (int batch = 0; answered && batch < kWarmupBatches + kBatches; ++batch) {
        const std::uint64_t start = tsc();
        for (std::uint64_t i = 0; i < kRoundTripsPerBatch; ++i) {
            const std::uint64_t n = batch * kRoundTripsPerBatch + i;
            line.value.store(2 * n + 1, std::memory_order_release);
            if (!wait_for(line, 2 * n + 2, deadline)) {
                answered = false;
                break;
            }
        }
        if (answered && batch >= kWarmupBatches) {
            per_round_trip.push_back(static_cast<double>(tsc() - start) / kRoundTripsPerBatch);
        }
    }
    answerer.join();
    if (!answerer_ok) {
        std::fprintf(stderr, "placement_probe: cannot pin to CPU %d\n", cpu_b);
        return 1;
    }
    if (!answered) {
        std::fprintf(stderr, "placement_probe: CPU %d did not answer within %lld s\n", cpu_b,
                     static_cast<long long>(kTimeout.count()));
        return 1;
    }
    std::sort(per_round_trip.begin(), per_round_trip.end());
    std::printf(
        "{\"cpus\": [%d, %d], \"batches\": %d, \"round_trips_per_batch\": %d, \"median_cycles\": %.1f, "
        "\"min_cycles\": %.1f, \"max_cycles\": %.1f}\n",
        cpu_a, cpu_b, kBatches, static_cast<int>(kRoundTripsPerBatch), per_round_trip[per_round_trip.size() / 2],
        per_round_trip.front(), per_round_trip.back());
    return 0;
}
