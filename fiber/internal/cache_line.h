// The cache line size evergreen lays its hot data out for and prefetches by,
// and the two ways it prefetches.
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

// prefetch_for_read()
//
// Starts loading every cache line that [first, first + bytes) starts in, for
// reading: an object about to be read, or a suspended fiber's frames up from
// its saved stack pointer. Does not fault on any address.
inline void prefetch_for_read(const char* first, size_t bytes) {
  for (size_t offset = 0; offset < bytes; offset += kCacheLine) __builtin_prefetch(first + offset);
}

// prefetch_for_write_below()
//
// Starts loading, for writing, the `lines` cache lines just below `top`: the
// first ones a stack growing down from `top` writes. Warms a free stack for
// the fiber that will start on it, or (one line) gets its page walk going.
// Does not fault on any address.
inline void prefetch_for_write_below(const char* top, size_t lines) {
  for (size_t line = 1; line <= lines; ++line) __builtin_prefetch(top - line * kCacheLine, 1);
}

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_CACHE_LINE_H_
