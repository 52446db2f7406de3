// evergreen/loop/loop_options.h
//
// How an EventLoop is built: which kernel interface waits for I/O. Every
// documented behaviour holds on both backends; the choice only changes how
// the loop talks to the kernel.
#ifndef EVERGREEN_LOOP_LOOP_OPTIONS_H_
#define EVERGREEN_LOOP_LOOP_OPTIONS_H_

#include <optional>

#include "evergreen/loop/duration.h"

namespace evergreen {

// Backend
//
// kAuto: the EVERGREEN_BACKEND environment variable ("epoll" or "io_uring")
// when set, else io_uring where the kernel allows it, else epoll.
// EventLoop::backend() never reports kAuto.
enum class Backend { kAuto, kEpoll, kIoUring };

// LoopOptions
//
// Passed to EventLoop's constructor (and, through LoopGroupOptions, to every
// loop of a group).
struct LoopOptions {
  Backend backend = Backend::kAuto;
  // How long a loop with nothing to run keeps watching for work from other
  // threads before it sleeps, counted from the last time such work arrived
  // (see ARCHITECTURE.md, "Crossing threads"). Spinning spares the other
  // thread an eventfd write and this one a sleep and wake-up, so work that
  // bounces between loops crosses in about a cache-line transfer. A loop
  // that receives no work from other threads never spins. Unset: zero (no
  // spinning) for an EventLoop made on its own, 50 us for a LoopGroup's
  // loops. Zero turns it off; a negative value makes the loop's constructor
  // throw std::invalid_argument.
  std::optional<Duration> cross_thread_spin = std::nullopt;
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_LOOP_OPTIONS_H_
