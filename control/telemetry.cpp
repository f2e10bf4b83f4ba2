#include "control/telemetry.hpp"

#include <mutex>
#include <string>

#include <rte_telemetry.h>

#include "base/packet/drop_reason.hpp"

namespace dpdock::control {
namespace {

// The dataplane the commands read; the mutex keeps it alive while one runs.
std::mutex g_mutex;
const dataplane::Dataplane* g_dataplane = nullptr;

sync::WorkerCounters totals(const dataplane::Dataplane& dp) {
    sync::WorkerCounters total;
    for (const auto& c : dp.read_counters()) sync::accumulate(total, c);
    return total;
}

int stats_command(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (g_dataplane == nullptr) return -1;
    const sync::WorkerCounters t = totals(*g_dataplane);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "rx_packets", t.rx_packets);
    rte_tel_data_add_dict_u64(d, "tx_packets", t.tx_packets);
    rte_tel_data_add_dict_u64(d, "flooded", t.flooded);
    rte_tel_data_add_dict_u64(d, "local_delivered", t.local_delivered);
    rte_tel_data_add_dict_u64(d, "mac_learned", t.mac_learned);
    rte_tel_data_add_dict_u64(d, "icmp_errors_sent", t.icmp_errors_sent);
    rte_tel_data_add_dict_u64(d, "exception_punted", t.punted);
    rte_tel_data_add_dict_u64(d, "exception_from_host", t.from_host);
    std::uint64_t drops = 0;
    for (std::uint64_t n : t.drops) drops += n;
    rte_tel_data_add_dict_u64(d, "drops", drops);
    return 0;
}

int drops_command(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (g_dataplane == nullptr) return -1;
    const sync::WorkerCounters t = totals(*g_dataplane);
    rte_tel_data_start_dict(d);
    for (std::size_t r = 0; r < kDropReasonCount; ++r) {
        const std::string name(kDropReasonNames[r]);
        rte_tel_data_add_dict_u64(d, name.c_str(), t.drops[r]);
    }
    return 0;
}

}  // namespace

TelemetryScope::TelemetryScope(const dataplane::Dataplane& dp) {
    static std::once_flag registered;
    std::call_once(registered, [] {
        rte_telemetry_register_cmd("/dpdock/stats", stats_command,
                                   "dpdock's packet totals, exception path, MAC and ICMP counters. No parameters.");
        rte_telemetry_register_cmd("/dpdock/drops", drops_command, "dpdock's dropped packets by reason. No parameters.");
    });
    std::lock_guard lock(g_mutex);
    g_dataplane = &dp;
}

TelemetryScope::~TelemetryScope() {
    std::lock_guard lock(g_mutex);
    g_dataplane = nullptr;
}

}  // namespace dpdock::control
