// Small helpers shared by the benchmarks.
#ifndef EVERGREEN_BENCH_BENCH_UTIL_H_
#define EVERGREEN_BENCH_BENCH_UTIL_H_

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "benchmark/benchmark.h"

namespace evergreen::bench {

// Peak resident set size of the process so far, in bytes.
inline int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

// Resident set size now, in bytes (getrusage only knows the peak).
inline int64_t current_rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// A counter holding seconds per item, over `count` items in the whole run
// (e.g. seconds per yield): Google Benchmark's inverted rate, over the run's
// CPU time (or its real or manual time where a benchmark asks for that). Name
// it "seconds_per_...": the JSON holds seconds, the console prints it with an
// SI prefix (27.1ns).
inline benchmark::Counter seconds_per(double count) {
  return benchmark::Counter(count, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The CPUs this process may run on, in ascending order.
inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

// Keeps the calling thread on `cpu`.
inline void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace evergreen::bench

#endif  // EVERGREEN_BENCH_BENCH_UTIL_H_
