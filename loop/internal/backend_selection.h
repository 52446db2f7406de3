// evergreen/loop/internal/backend_selection.h
//
// Turns LoopOptions::backend (and EVERGREEN_BACKEND for kAuto) into the
// poller a loop is built with, as API.md says:
// - kEpoll, kIoUring: that backend, or std::system_error naming why not.
// - kAuto with EVERGREEN_BACKEND set: as if that backend had been asked for
//   (so EVERGREEN_BACKEND=io_uring fails loudly where io_uring is refused);
//   std::invalid_argument if the variable names no backend.
// - kAuto otherwise: io_uring if the kernel lets this process set up a ring,
//   else epoll, with the reason io_uring was not used kept for
//   EventLoop::backend_fallback_reason().
//
// For tests: EVERGREEN_TEST_REFUSE_IO_URING, when set and not empty, makes
// every io_uring set-up fail with EPERM, as seccomp or the io_uring_disabled
// sysctl would. Only this file reads it.
#ifndef EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_
#define EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_

#include <memory>
#include <string>

#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/loop_options.h"

namespace evergreen::internal {

struct OpenedBackend {
  Backend backend = Backend::kEpoll;  // never kAuto
  std::unique_ptr<Poller> poller;
  // Why kAuto did not get io_uring; empty if it did, or if a backend was
  // asked for by name.
  std::string fallback_reason;
};

OpenedBackend open_backend(Backend requested);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_
