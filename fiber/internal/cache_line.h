// The cache line size evergreen lays its hot data out for and prefetches by.
//
// One constant for the whole library: //fiber uses it to offset and prefetch
// stacks, //loop to align and prefetch its own hot objects. It is 64 bytes on
// x86-64 and on the aarch64 cores we build for. A CPU with larger lines only
// makes some prefetches redundant and some padding short; nothing depends on
// the value for correctness. Code that assumes a layout in lines says so with
// a static_assert next to it, so retuning this value is checked at compile
// time everywhere it matters.
#ifndef EVERGREEN_FIBER_INTERNAL_CACHE_LINE_H_
#define EVERGREEN_FIBER_INTERNAL_CACHE_LINE_H_

#include <cstddef>

namespace evergreen::fiber_internal {

inline constexpr size_t kCacheLine = 64;

// Alignment requests (operator new, alignas) need a power of two.
static_assert(kCacheLine != 0 && (kCacheLine & (kCacheLine - 1)) == 0,
              "the cache line size must be a power of two");

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_CACHE_LINE_H_
