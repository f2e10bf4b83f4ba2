// The current time as RFC 3339 text in UTC ("2026-12-02T15:49:14Z"), the form
// Docker's "Created" and the cluster's records use.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace dpdock {

inline std::string utc_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

}  // namespace dpdock
