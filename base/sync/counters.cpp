#include "base/sync/counters.hpp"

#include <type_traits>

namespace dpdock::sync {
namespace {

// WorkerCounters is, by construction, only uint64_t fields (and padding at the
// end for alignment); treat it as an array of them to avoid listing fields.
constexpr std::size_t kWords = offsetof(WorkerCounters, ports) / sizeof(std::uint64_t) +
                               kMaxPorts * sizeof(PortCounters) / sizeof(std::uint64_t);
static_assert(sizeof(PortCounters) % sizeof(std::uint64_t) == 0);
static_assert(std::is_standard_layout_v<WorkerCounters>);

template <typename Fn>
void for_each_word(WorkerCounters& a, const WorkerCounters& b, Fn fn) {
    auto* wa = reinterpret_cast<std::uint64_t*>(&a);
    const auto* wb = reinterpret_cast<const std::uint64_t*>(&b);
    for (std::size_t i = 0; i < kWords; ++i) fn(wa[i], wb[i]);
}

}  // namespace

WorkerCounters read_counters(const WorkerCounters& live) {
    WorkerCounters copy;
    for_each_word(copy, live, [](std::uint64_t& dst, const std::uint64_t& src) { dst = load(src); });
    return copy;
}

void accumulate(WorkerCounters& total, const WorkerCounters& add) {
    for_each_word(total, add, [](std::uint64_t& dst, const std::uint64_t& src) { dst += src; });
}

void subtract(WorkerCounters& total, const WorkerCounters& baseline) {
    for_each_word(total, baseline, [](std::uint64_t& dst, const std::uint64_t& src) { dst -= src; });
}

}  // namespace dpdock::sync
