#include "control/event_loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace dpdock::control {
namespace {

constexpr int kMaxEventsPerWait = 64;
constexpr std::chrono::milliseconds kStopCheckInterval{100};

std::uint64_t pack(int fd, std::uint32_t generation) {
    return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}

Status errno_status(const char* what, int fd, int err) {
    return Status::error(std::string(what) + " fd " + std::to_string(fd) + ": " + std::strerror(err));
}

}  // namespace

EventLoop::EventLoop() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) create_errno_ = errno;
}

EventLoop::~EventLoop() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status EventLoop::add(int fd, std::uint32_t events, Callback callback) {
    if (epoll_fd_ < 0) return Status::error(std::string("epoll_create1: ") + std::strerror(create_errno_));
    if (watches_.contains(fd)) return Status::error("fd " + std::to_string(fd) + " is already watched");
    const std::uint32_t generation = next_generation_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = pack(fd, generation);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno_status("epoll add", fd, errno);
    watches_[fd] = std::make_shared<Watch>(Watch{generation, std::move(callback)});
    return {};
}

Status EventLoop::modify(int fd, std::uint32_t events) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) return Status::error("fd " + std::to_string(fd) + " is not watched");
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = pack(fd, it->second->generation);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) return errno_status("epoll modify", fd, errno);
    return {};
}

void EventLoop::remove(int fd) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) return;
    // EBADF/ENOENT here means the caller closed fd first; the kernel already forgot it.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watches_.erase(it);
}

EventLoop::TimerId EventLoop::run_every(std::chrono::milliseconds period, std::function<void()> fn) {
    period = std::max(period, std::chrono::milliseconds(1));
    const TimerId id = next_timer_id_++;
    timers_.emplace(id, Timer{period, Clock::now() + period, std::make_shared<std::function<void()>>(std::move(fn))});
    return id;
}

void EventLoop::cancel(TimerId id) { timers_.erase(id); }

void EventLoop::run_once(std::chrono::milliseconds max_wait) {
    auto wait = std::max(max_wait, std::chrono::milliseconds(0));
    if (!timers_.empty()) {
        Clock::time_point next = Clock::time_point::max();
        for (const auto& [id, timer] : timers_) next = std::min(next, timer.next);
        // Round up: waking a fraction of a millisecond early would spin until the timer is due.
        const auto until_next = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
        wait = std::clamp(until_next, std::chrono::milliseconds(0), wait);
    }

    std::array<epoll_event, kMaxEventsPerWait> events{};
    const int n = epoll_fd_ < 0 ? 0 : epoll_wait(epoll_fd_, events.data(), kMaxEventsPerWait,
                                                  static_cast<int>(wait.count()));
    for (int i = 0; i < n; ++i) {
        const int fd = static_cast<int>(static_cast<std::uint32_t>(events[i].data.u64));
        const auto generation = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
        auto it = watches_.find(fd);
        // Removed by an earlier callback of this batch, possibly re-added under a new generation.
        if (it == watches_.end() || it->second->generation != generation) continue;
        std::shared_ptr<Watch> watch = it->second;
        watch->callback(events[i].events);
    }
    run_due_timers();
}

void EventLoop::run_due_timers() {
    const auto now = Clock::now();
    std::vector<TimerId> due;
    for (const auto& [id, timer] : timers_) {
        if (timer.next <= now) due.push_back(id);
    }
    for (TimerId id : due) {
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;  // cancelled by an earlier timer
        Timer& timer = it->second;
        timer.next += timer.period;
        if (timer.next <= now) timer.next = now + timer.period;
        std::shared_ptr<std::function<void()>> fn = timer.fn;
        (*fn)();
    }
}

void EventLoop::run(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_relaxed)) run_once(kStopCheckInterval);
}

}  // namespace dpdock::control
