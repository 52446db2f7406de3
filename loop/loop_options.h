// evergreen/loop/loop_options.h
//
// How an EventLoop is built: which kernel interface waits for I/O. Every
// documented behaviour holds on both backends; the choice only changes how
// the loop talks to the kernel.
#ifndef EVERGREEN_LOOP_LOOP_OPTIONS_H_
#define EVERGREEN_LOOP_LOOP_OPTIONS_H_

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
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_LOOP_OPTIONS_H_
