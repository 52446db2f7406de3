// Shared by the echo benchmark's programs: flags and CPU pinning.
#ifndef EVERGREEN_BENCH_ECHO_COMMON_H_
#define EVERGREEN_BENCH_ECHO_COMMON_H_

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace evergreen::bench {

// The value of --name=value in argv, or `fallback`.
inline std::string flag(int argc, char** argv, const char* name, const char* fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

inline long flag_number(int argc, char** argv, const char* name, long fallback) {
  std::string value = flag(argc, argv, name, "");
  return value.empty() ? fallback : std::strtol(value.c_str(), nullptr, 10);
}

// Pins the calling thread (the whole process, for these single-threaded
// programs) to one CPU; -1 leaves it alone.
inline void pin_to_cpu(long cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("sched_setaffinity");
}

}  // namespace evergreen::bench

#endif  // EVERGREEN_BENCH_ECHO_COMMON_H_
