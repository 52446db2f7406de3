// The loop's readiness backend: epoll. Only this file pair calls epoll, but
// the class is epoll's shape (it holds the epoll fd, and the kPoll* bits
// below have epoll's values so that events pass through unconverted): a
// second backend needs an interface in front of it, not just a new .cc.
// Only the fd registry (fd_registry.h) and the loop's own fds (its wake-up
// eventfd, the signal pipe) register here.
//
// Each registration gets a token made of a slot index and a generation. The
// kernel hands the token back with each event; an event whose generation no
// longer matches (the registration was removed, perhaps the fd closed and
// reused, while the event sat in the same batch) is dropped, as Go's netpoller
// does with its sequence numbers.
#ifndef EVERGREEN_LOOP_INTERNAL_POLLER_H_
#define EVERGREEN_LOOP_INTERNAL_POLLER_H_

#include <cstdint>
#include <vector>

#include "evergreen/loop/internal/slot_vector.h"

namespace evergreen::internal {

// Readiness bits, the same values as epoll's.
inline constexpr uint32_t kPollIn = 0x001;
inline constexpr uint32_t kPollOut = 0x004;
inline constexpr uint32_t kPollError = 0x008;
inline constexpr uint32_t kPollHangUp = 0x010;
inline constexpr uint32_t kPollPeerClosed = 0x2000;       // EPOLLRDHUP
inline constexpr uint32_t kPollEdgeTriggered = 1u << 31;  // EPOLLET

class PollHandler {
 public:
  virtual ~PollHandler() = default;
  // Called on the loop fiber with the ready bits (kPoll*).
  virtual void on_poll_events(uint32_t events) = 0;
};

class Poller {
 public:
  using Token = uint64_t;

  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Watches `fd` for `events`. Throws std::system_error (e.g. EBADF, EEXIST).
  Token add(int fd, uint32_t events, PollHandler* handler);
  // Changes what `fd` is watched for. Throws std::system_error.
  void modify(Token token, int fd, uint32_t events);
  // Stops watching. Safe if `fd` was already closed (the kernel dropped it then).
  void remove(Token token, int fd);

  // Waits at most `timeout_ms` (-1: no limit, 0: just look) and dispatches the
  // events to their handlers. Returns the number of events dispatched.
  int poll(int timeout_ms);

  // Number of live registrations.
  size_t size() const { return live_; }

 private:
  struct Slot {
    PollHandler* handler = nullptr;
    uint32_t generation = 0;
  };

  int epoll_fd_ = -1;
  SlotVector<Slot> slots_;
  size_t live_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_POLLER_H_
