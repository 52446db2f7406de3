// What a fresh stack page costs on this machine, without evergreen: the floor
// under a cold start (issue 18). Maps `pages` pages one per 128 KiB region
// (the stride of 64 KiB stacks with their 64 KiB guards), MADV_NOHUGEPAGE,
// then writes one byte to each, and prints per page:
//
//   populate_us     populating them first: one vectored process_madvise
//                   (MADV_POPULATE_WRITE) per 1024 pages, as the stack pool
//                   does per slab (0 in mode "fault")
//   first_touch_us  the first write to each page afterwards
//   second_touch_us a second write to each (a TLB miss, no fault)
//   guest_faults    page faults the kernel counted during the first writes
//
//   page_touch fault|populate [pages]     (default 100000 pages)
//
// On a VM with shadow or nested paging a populated page still pays the
// hypervisor's fault on its first user access, which the kernel does not
// see: first_touch_us stays high while guest_faults drops to near zero.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
constexpr int kPidfdSelfProcess = -10001;  // as in fiber/internal/stack_pool.cc
constexpr size_t kStride = size_t{128} << 10;

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

}  // namespace

int main(int argc, char** argv) {
  const bool populate = argc >= 2 && std::strcmp(argv[1], "populate") == 0;
  if (argc < 2 || (!populate && std::strcmp(argv[1], "fault") != 0)) {
    std::fprintf(stderr, "usage: page_touch fault|populate [pages]\n");
    return 2;
  }
  const long pages = argc >= 3 ? std::atol(argv[2]) : 100000;
  if (pages <= 0) {
    std::fprintf(stderr, "page_touch: page count '%s' is not a positive integer\n", argv[2]);
    return 2;
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t count = static_cast<size_t>(pages);
  void* mapped = mmap(nullptr, count * kStride, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) {
    std::perror("page_touch: mmap");
    return 1;
  }
  char* base = static_cast<char*>(mapped);
  madvise(base, count * kStride, MADV_NOHUGEPAGE);
  auto top = [&](size_t i) { return base + (i + 1) * kStride - page; };

  double populate_us = 0;
  if (populate) {
    std::vector<iovec> ranges(count);
    for (size_t i = 0; i < count; ++i) ranges[i] = iovec{top(i), page};
    const auto start = Clock::now();
    for (size_t done = 0; done < count; done += 1024) {
      const size_t batch = std::min<size_t>(1024, count - done);
      if (syscall(SYS_process_madvise, kPidfdSelfProcess, ranges.data() + done, batch,
                  MADV_POPULATE_WRITE, 0) < 0) {
        std::perror("page_touch: process_madvise(MADV_POPULATE_WRITE)");
        return 1;
      }
    }
    populate_us = us_since(start);
  }
  const long faults_before = minor_faults();
  auto start = Clock::now();
  for (size_t i = 0; i < count; ++i) top(i)[page - 64] = 1;
  const double first_us = us_since(start);
  const long faults = minor_faults() - faults_before;
  start = Clock::now();
  for (size_t i = 0; i < count; ++i) top(i)[page - 128] = 1;
  const double second_us = us_since(start);
  const double n = static_cast<double>(count);
  std::printf(
      "%s %zu pages: populate_us=%.2f first_touch_us=%.2f second_touch_us=%.3f "
      "guest_faults=%ld\n",
      argv[1], count, populate_us / n, first_us / n, second_us / n, faults);
  munmap(base, count * kStride);
  return 0;
}
