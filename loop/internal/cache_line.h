// The cache line size the loop lays its hot data out for and prefetches by:
// 64 bytes on x86-64 and on the aarch64 cores we build for. (A larger line
// only makes some prefetches redundant; nothing here depends on it for
// correctness.)
#ifndef EVERGREEN_LOOP_INTERNAL_CACHE_LINE_H_
#define EVERGREEN_LOOP_INTERNAL_CACHE_LINE_H_

#include <cstddef>

namespace evergreen::internal {

inline constexpr size_t kCacheLine = 64;

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CACHE_LINE_H_
