// DPDOCK_DCHECK: an invariant the code guarantees by construction, checked in
// debug builds (the ASan/UBSan configuration CI runs) and compiled out of
// release builds, where the fast path cannot afford the branch. A failed check
// reports where and aborts: it is a bug, never a reaction to input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace dpdock {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    std::abort();
}

}  // namespace dpdock

#ifdef NDEBUG
#define DPDOCK_DCHECK(cond) static_cast<void>(sizeof(cond))
#else
#define DPDOCK_DCHECK(cond) ((cond) ? static_cast<void>(0) : ::dpdock::check_failed(#cond, __FILE__, __LINE__))
#endif
