// What //patch knows about each file descriptor: whether it is a socket or
// pipe that tasks use cooperatively, the O_NONBLOCK flag the program believes
// it has, and its SO_RCVTIMEO/SO_SNDTIMEO.
//
// File descriptors are process-wide, so this table is too (the one global
// besides the per-thread loop): a socket opened by one thread may be used by
// another. Entries are lock-free atomics in chunks allocated with mmap, so
// every operation is thread-safe and async-signal-safe (the loop's own signal
// handler writes to a pipe, and that write() is interposed as well).
//
// Life of an entry: unknown until a task first uses the fd (adopt()) or a
// task creates it (created()); then plain (not a socket or pipe: left to
// libc, a regular file noted as one) or cooperative (made non-blocking
// underneath); unknown again when it is closed through close()/dup2()
// (forget()).
#ifndef EVERGREEN_PATCH_INTERNAL_FD_STATE_H_
#define EVERGREEN_PATCH_INTERNAL_FD_STATE_H_

#include <cstdint>

#include "evergreen/loop/event_loop.h"

namespace evergreen::patch_internal {

enum class FdKind : uint8_t {
  kUnknown,      // never used by a task since it was opened
  kAdopting,     // another thread is classifying it right now
  kPlain,        // not a socket or pipe (or cannot be made non-blocking)
  kCooperative,  // a socket or pipe, non-blocking underneath
};

struct FdInfo {
  FdKind kind = FdKind::kUnknown;
  // The O_NONBLOCK the program set (meaningful for kCooperative).
  bool user_nonblocking = false;
  bool socket = false;
  // A plain fd that is a regular file (its reads and writes never return
  // EAGAIN, so tasks run them on io's file pool instead).
  bool regular_file = false;

  // A cooperative fd on which calls must keep blocking semantics.
  bool emulates_blocking() const { return kind == FdKind::kCooperative && !user_nonblocking; }
};

enum class Direction : uint8_t { kReceive, kSend };

class FdTable {
 public:
  // What is recorded for `fd`, without any system call.
  static FdInfo lookup(int fd);

  // Classifies an unknown `fd` for a task about to use it: a socket or pipe
  // becomes kCooperative (O_NONBLOCK set underneath, the flag it had becomes
  // the user-visible one, its socket timeouts are read); anything else
  // kPlain. An fd that is invalid stays unknown (libc will report EBADF).
  // Returns kAdopting while another thread adopts the same fd. Preserves errno.
  static FdInfo adopt(int fd);

  // Records an fd a task just created non-blocking underneath (socket(),
  // accept()).
  static void created(int fd, bool user_nonblocking, bool socket);

  // The fd was closed (or is about to be replaced): it is unknown again.
  static void forget(int fd);

  // `target` now refers to the same open file description as `fd` (dup).
  static void copy(int fd, int target);

  // Sets the user-visible O_NONBLOCK of a cooperative fd; returns false (and
  // changes nothing) for any other fd.
  static bool set_user_nonblocking(int fd, bool nonblocking);

  // SO_RCVTIMEO (kReceive) or SO_SNDTIMEO (kSend); zero means none.
  static Duration timeout(int fd, Direction direction);
  static void set_timeout(int fd, Direction direction, Duration timeout);
};

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_FD_STATE_H_
