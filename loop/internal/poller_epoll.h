// EpollPoller: the Poller (poller.h) on epoll. Level-triggered registrations
// are epoll's own; kPollEdgeTriggered becomes EPOLLET.
#ifndef EVERGREEN_LOOP_INTERNAL_POLLER_EPOLL_H_
#define EVERGREEN_LOOP_INTERNAL_POLLER_EPOLL_H_

#include <cstdint>

#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/slot_vector.h"

namespace evergreen::internal {

class EpollPoller final : public Poller {
 public:
  // Throws std::system_error if epoll_create1 fails.
  EpollPoller();
  ~EpollPoller() override;
  EpollPoller(const EpollPoller&) = delete;
  EpollPoller& operator=(const EpollPoller&) = delete;

  Token add(int fd, uint32_t events, PollHandler* handler) override;
  void modify(Token token, int fd, uint32_t events) override;
  void remove(Token token, int fd) override;
  int poll(int timeout_ms) override;

 private:
  struct Slot {
    PollHandler* handler = nullptr;
    uint32_t generation = 0;
  };

  int epoll_fd_ = -1;
  SlotVector<Slot> slots_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_POLLER_EPOLL_H_
