#include "capture/capture_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dpdock::capture {
namespace {

constexpr auto kDrainPeriod = std::chrono::milliseconds(10);

}  // namespace

CaptureService::~CaptureService() {
    stop();
    drain(0);
    for (unsigned w = 0; w < workers_ && w < kMaxWorkers; ++w) rte_ring_free(tap_.rings[w]);
    rte_mempool_free(tap_.pool);
}

Status CaptureService::ensure_rings() {
    if (tap_.pool != nullptr) return {};
    if (workers_ > kMaxWorkers) return Status::error("capture: more than 64 workers");
    tap_.pool = rte_pktmbuf_pool_create("dpdock_capture", kPoolMbufs, 256, 0,
                                        static_cast<std::uint16_t>(rte_pcapng_mbuf_size(kSnapLength)), socket_);
    if (tap_.pool == nullptr) return Status::error("capture: cannot create its mbuf pool (hugepage memory?)");
    for (unsigned w = 0; w < workers_; ++w) {
        const std::string name = "dpdock_capture_" + std::to_string(w);
        tap_.rings[w] = rte_ring_create(name.c_str(), kRingSize, socket_, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (tap_.rings[w] == nullptr) return Status::error("capture: cannot create ring " + name);
    }
    return {};
}

Status CaptureService::start(const CaptureRequest& request) {
    if (running_) return Status::error("a capture is running (to " + status().path + "): stop it first");
    if (request.max_packets == 0 && request.duration.count() <= 0) {
        return Status::error("capture: give a packet count or a time bound");
    }
    join();
    if (auto st = ensure_rings(); !st) return st;
    drain(0);  // copies a worker queued after the last capture was disarmed
    // O_NOFOLLOW: root opens a path a --group member named (checked, but a
    // symlink swapped in after the check would let it truncate any file).
    const int fd = ::open(request.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Status::error("capture: cannot write " + request.path + ": " + std::strerror(errno));
    rte_pcapng_t* pcapng = rte_pcapng_fdopen(fd, nullptr, nullptr, "dpdockd", nullptr);
    if (pcapng == nullptr) {
        ::close(fd);
        return Status::error("capture: cannot start a pcapng file in " + request.path);
    }
    pcapng_ = pcapng;
    {
        std::lock_guard lock(mutex_);
        path_ = request.path;
        error_.clear();
    }
    written_ = 0;
    tap_.missed = 0;
    stop_ = false;
    running_ = true;
    tap_.port.store(request.port, std::memory_order_relaxed);
    tap_.armed.store(true, std::memory_order_release);
    const auto deadline = request.duration.count() > 0 ? std::chrono::steady_clock::now() + request.duration
                                                       : std::chrono::steady_clock::time_point::max();
    try {
        thread_ = std::thread([this, max = request.max_packets, deadline] { run(max, deadline); });
    } catch (const std::system_error& e) {
        tap_.armed = false;
        running_ = false;
        rte_pcapng_close(pcapng);
        pcapng_ = nullptr;
        return Status::error(std::string("capture: cannot start its thread: ") + e.what());
    }
    return {};
}

void CaptureService::run(std::uint64_t max_packets, std::chrono::steady_clock::time_point deadline) noexcept {
    const std::uint64_t bound = max_packets == 0 ? UINT64_MAX : max_packets;
    while (!stop_ && written_ < bound && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kDrainPeriod);
        written_ += drain(bound - written_);
    }
    tap_.armed.store(false, std::memory_order_release);
    written_ += drain(bound - written_);  // what was queued before the tap closed
    rte_pcapng_close(static_cast<rte_pcapng_t*>(pcapng_));
    pcapng_ = nullptr;
    running_ = false;
}

std::uint64_t CaptureService::drain(std::uint64_t room) {
    std::uint64_t wrote = 0;
    rte_mbuf* pkts[64];
    for (unsigned w = 0; w < workers_ && w < kMaxWorkers; ++w) {
        if (tap_.rings[w] == nullptr) continue;
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(tap_.rings[w], reinterpret_cast<void**>(pkts), 64, nullptr)) != 0) {
            const auto take = static_cast<std::uint16_t>(std::min<std::uint64_t>(n, room - wrote));
            if (take != 0 && pcapng_ != nullptr &&
                rte_pcapng_write_packets(static_cast<rte_pcapng_t*>(pcapng_), pkts, take) < 0) {
                std::lock_guard lock(mutex_);
                error_ = std::string("writing ") + path_ + " failed: " + std::strerror(errno);
                stop_ = true;
            } else if (pcapng_ != nullptr) {
                wrote += take;
            }
            rte_pktmbuf_free_bulk(pkts, n);
        }
    }
    return wrote;
}

void CaptureService::stop() {
    stop_ = true;
    join();
}

void CaptureService::join() {
    if (thread_.joinable()) thread_.join();
}

CaptureStatus CaptureService::status() const {
    CaptureStatus s;
    s.running = running_;
    s.written = written_;
    s.missed = tap_.missed;
    std::lock_guard lock(mutex_);
    s.path = path_;
    s.error = error_;
    return s;
}

}  // namespace dpdock::capture
