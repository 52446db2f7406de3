// The program tests/gdb/evergreen_gdb_test.sh looks at with gdb: two tasks
// parked in sleep(), one of them inside a function whose name the test looks
// for in its stack. It prints "ready" once both are parked, then blocks in a
// plain system call (the loop no longer turns, as in a hung program) until
// the test kills it, or 120s pass.
//
// Built optimised (-O2) with debug information. The evergreen types the gdb
// script reads (LoopWatch, LoopCore, Task, Fiber) are described by this file's
// debug information: it includes their headers, and
// -fno-eliminate-unused-debug-types keeps every type they define. It is a
// library (gdb_test_program_main.cc is the whole executable) because Bazel
// strips the debug information of what it links in fastbuild: the test hands
// gdb this library's object file for the types.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/stall_watchdog.h"
#include "evergreen/loop/task.h"

// Not inlined, and the empty asm keeps the call from becoming a tail jump, so
// the function keeps a frame of its own in the task's stack.
[[gnu::noinline]] void gdb_test_waits_here() {
  evergreen::sleep(std::chrono::hours(1));
  asm volatile("" ::: "memory");
}

int gdb_test_program_main() {
  evergreen::EventLoop loop;
  evergreen::Task first([] { gdb_test_waits_here(); }, "gdb-sleeper");
  evergreen::Task second([] { evergreen::sleep(std::chrono::hours(1)); }, "gdb-second");
  first.start();
  second.start();
  evergreen::sleep(std::chrono::milliseconds(10));  // both run and park
  std::printf("ready\n");
  std::fflush(stdout);
  ::sleep(120);
  return 0;
}
