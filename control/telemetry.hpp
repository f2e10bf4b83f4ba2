// dpdock's counters in DPDK telemetry (`dpdk-telemetry.py`, the EAL's
// dpdk_telemetry.v2 socket in /var/run/dpdk/dpdock-<pid>/): /dpdock/stats
// (packet totals, the exception path, MAC and ICMP counters) and
// /dpdock/drops (packets dropped, by reason). The commands run on the EAL's
// telemetry thread and read the workers' counters as stats.show does (atomic
// loads); a TelemetryScope publishes the dataplane to them for its lifetime
// (DPDK 22.11 cannot unregister a command: outside the scope they answer an
// error). Control thread creates and destroys the scope.
#pragma once

#include "dataplane/dataplane.hpp"

namespace dpdock::control {

class TelemetryScope {
public:
    explicit TelemetryScope(const dataplane::Dataplane& dp);  // registers the commands once per process
    ~TelemetryScope();
    TelemetryScope(const TelemetryScope&) = delete;
    TelemetryScope& operator=(const TelemetryScope&) = delete;
};

}  // namespace dpdock::control
