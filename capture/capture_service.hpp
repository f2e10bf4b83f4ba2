// CaptureService: `dpdock capture` inside dpdockd. DPDK's pdump needs a
// primary process that shares its config with dumpcap (dpdockd is not set up
// for secondaries), so the capture is written here with librte_pcapng: start()
// opens the file, creates (once) the copies' pool and a ring per worker, and
// arms the workers' tap (fastpath/capture_tap.hpp); the capture thread drains
// the rings into the file every few milliseconds until the packet count or
// the time bound is reached, or stop(). One capture at a time.
// Threading: start/stop/status from the control thread; one capture thread per capture.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "base/util/status.hpp"
#include "capture/fastpath/capture_tap.hpp"

namespace dpdock::capture {

inline constexpr unsigned kRingSize = 1024;      // per worker
inline constexpr unsigned kPoolMbufs = 4096;
inline constexpr std::uint32_t kSnapLength = 9216;  // the copies' data room: a jumbo frame (longer ones chain)

struct CaptureRequest {
    std::string path;                   // the pcapng file, created or truncated
    std::uint32_t port = kAllPorts;
    std::uint64_t max_packets = 0;      // 0: no count bound
    std::chrono::milliseconds duration{0};  // 0: no time bound; at least one bound is required
};

struct CaptureStatus {
    bool running = false;
    std::string path;
    std::uint64_t written = 0;
    std::uint64_t missed = 0;  // copies the workers could not hand over
    std::string error;         // why the last capture ended early ("" when it did not)
};

class CaptureService {
public:
    CaptureService(unsigned workers, int socket) : workers_(workers), socket_(socket) {}
    ~CaptureService();  // stops a running capture and frees the copies (workers are stopped by then)
    CaptureService(const CaptureService&) = delete;
    CaptureService& operator=(const CaptureService&) = delete;

    CaptureTap& tap() { return tap_; }
    Status start(const CaptureRequest& request);
    void stop();
    CaptureStatus status() const;

private:
    Status ensure_rings();
    void run(std::uint64_t max_packets, std::chrono::steady_clock::time_point deadline) noexcept;
    // Writes up to `room` queued copies to the file, frees the others; how many it wrote.
    std::uint64_t drain(std::uint64_t room);
    void join();

    const unsigned workers_;
    const int socket_;
    CaptureTap tap_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> written_{0};
    void* pcapng_ = nullptr;  // rte_pcapng_t*, the capture thread's while it runs
    mutable std::mutex mutex_;
    std::string path_;
    std::string error_;
};

}  // namespace dpdock::capture
