// EventLoop: the control thread's single-threaded epoll loop (socket clients,
// signalfd, netlink, periodic sweepers). Not thread-safe: create it, register
// fds and timers, and run it on one thread. Callbacks run on that thread and
// may add or remove any fd or timer, their own included: a removed fd's
// pending events are discarded even if its number is reused in the same
// iteration (each registration carries a generation in the epoll data).
// Timers are periodic and run after the fd callbacks of an iteration.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/util/status.hpp"

namespace dpdock::control {

class EventLoop {
public:
    using Callback = std::function<void(std::uint32_t events)>;
    using TimerId = std::uint64_t;
    using Clock = std::chrono::steady_clock;

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Watches fd for `events` (EPOLLIN, EPOLLOUT, ...; level-triggered). The
    // loop does not own fd: remove it before closing it.
    Status add(int fd, std::uint32_t events, Callback callback);
    Status modify(int fd, std::uint32_t events);
    // No-op for an fd that is not registered.
    void remove(int fd);

    // Calls fn every period, first one period from now. A slow iteration
    // does not cause a burst of catch-up calls.
    TimerId run_every(std::chrono::milliseconds period, std::function<void()> fn);
    void cancel(TimerId id);

    // Waits up to max_wait (less if a timer is due), dispatches, returns.
    void run_once(std::chrono::milliseconds max_wait);
    // Runs until stop is true; stop is checked at least every 100 ms.
    void run(const std::atomic<bool>& stop);

private:
    struct Watch {
        std::uint32_t generation;
        Callback callback;
    };
    struct Timer {
        std::chrono::milliseconds period;
        Clock::time_point next;
        std::shared_ptr<std::function<void()>> fn;
    };

    void run_due_timers();

    int epoll_fd_ = -1;
    int create_errno_ = 0;
    std::uint32_t next_generation_ = 1;
    // shared_ptr so a callback that removes its own fd stays alive while it runs.
    std::unordered_map<int, std::shared_ptr<Watch>> watches_;
    TimerId next_timer_id_ = 1;
    std::map<TimerId, Timer> timers_;
};

}  // namespace dpdock::control
