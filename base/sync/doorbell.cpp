#include "base/sync/doorbell.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace dpdock::sync {

Doorbell::~Doorbell() {
    if (fd_ >= 0) ::close(fd_);
}

Status Doorbell::open() {
    fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) return Status::error(std::string("doorbell (eventfd): ") + std::strerror(errno));
    return {};
}

void Doorbell::disarm(bool rung) {
    asleep_.store(false, std::memory_order_relaxed);
    if (!rung) return;
    std::uint64_t count = 0;
    // Non-blocking: a second reader cannot exist, so this only fails if the
    // count was already read; either way the eventfd is empty afterwards.
    [[maybe_unused]] const ssize_t r = ::read(fd_, &count, sizeof count);
}

void Doorbell::wake() {
    const std::uint64_t one = 1;
    // EAGAIN (the count at its maximum) still leaves the eventfd readable.
    [[maybe_unused]] const ssize_t w = ::write(fd_, &one, sizeof one);
}

}  // namespace dpdock::sync
