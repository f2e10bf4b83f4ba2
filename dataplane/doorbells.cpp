#include "dataplane/doorbells.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace dpdock::dataplane {

Result<std::unique_ptr<Doorbells>> Doorbells::create(unsigned workers) {
    using R = Result<std::unique_ptr<Doorbells>>;
    std::unique_ptr<Doorbells> bells(new Doorbells());
    bells->bells_ = std::vector<Bell>(workers);
    for (Bell& bell : bells->bells_) {
        bell.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (bell.fd < 0) return R::error(std::string("worker doorbell (eventfd): ") + std::strerror(errno));
    }
    return bells;
}

Doorbells::~Doorbells() {
    for (const Bell& bell : bells_) {
        if (bell.fd >= 0) ::close(bell.fd);
    }
}

void Doorbells::disarm(unsigned worker, bool rung) {
    bells_[worker].asleep.store(false, std::memory_order_relaxed);
    if (!rung) return;
    std::uint64_t count = 0;
    // Non-blocking: a second reader cannot exist, so this only fails if the
    // count was already read; either way the eventfd is empty afterwards.
    [[maybe_unused]] const ssize_t r = ::read(bells_[worker].fd, &count, sizeof count);
}

void Doorbells::wake(unsigned worker) {
    const std::uint64_t one = 1;
    // EAGAIN (the count at its maximum) still leaves the eventfd readable.
    [[maybe_unused]] const ssize_t w = ::write(bells_[worker].fd, &one, sizeof one);
}

}  // namespace dpdock::dataplane
