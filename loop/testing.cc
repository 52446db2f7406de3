#include "evergreen/loop/testing.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/loop_core.h"

namespace evergreen::testing {

void run_with_virtual_time(absl::AnyInvocable<void()> body, TestOptions options) {
  if (internal::Scheduler::for_this_thread() != nullptr) {
    throw std::logic_error(
        "evergreen: testing::run_with_virtual_time(): this thread already has an event loop "
        "(destroy it first; virtual time needs a fresh loop)");
  }
  EventLoop loop;
  internal::LoopCore::for_this_thread()->enable_virtual_time(options.shuffle_seed);
  try {
    body();
  } catch (...) {
    if (options.shuffle_seed) {
      std::fprintf(stderr,
                   "evergreen: run_with_virtual_time failed with shuffle_seed=%" PRIu64
                   " (pass TestOptions{.shuffle_seed = %" PRIu64 "} to replay this run)\n",
                   *options.shuffle_seed, *options.shuffle_seed);
    }
    loop.destroy();
    throw;
  }
  loop.destroy();
}

void wait_idle() {
  internal::LoopCore* loop = internal::LoopCore::for_this_thread();
  if (loop == nullptr || !loop->has_virtual_time()) {
    throw std::logic_error(
        "evergreen: testing::wait_idle() called outside run_with_virtual_time()");
  }
  loop->wait_idle(internal::current_blocking_context());
}

}  // namespace evergreen::testing
