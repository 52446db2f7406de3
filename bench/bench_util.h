// Small helpers shared by the benchmarks.
#ifndef EVERGREEN_BENCH_BENCH_UTIL_H_
#define EVERGREEN_BENCH_BENCH_UTIL_H_

#include <sys/resource.h>

#include <cstdint>

#include "benchmark/benchmark.h"

namespace evergreen::bench {

// Peak resident set size of the process so far, in bytes.
inline int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

// A counter shown as time per `count` items (e.g. ns per yield).
inline benchmark::Counter time_per(double count) {
  return benchmark::Counter(count, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace evergreen::bench

#endif  // EVERGREEN_BENCH_BENCH_UTIL_H_
