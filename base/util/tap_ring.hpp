// How many receive descriptors dpdock gives each net_tap rx queue. net_tap
// pins all of them as mbufs from the pool for one scattered read (readv) and,
// without the scatter offload, fills only the first; a TAP has one rx queue
// per worker (22.11's net_tap wants as many rx as tx queues). Shared by the
// port setup (dataplane/port.cpp) and the validation that counts what TAP
// endpoints take from the pool (config/validate.cpp).
#pragma once

#include <cstdint>

namespace dpdock {

inline constexpr std::uint16_t kTapRxDescriptors = 64;

}  // namespace dpdock
