#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "evergreen/loop/internal/poller.h"

namespace evergreen::internal {
namespace {

constexpr int kMaxEventsPerPoll = 256;

static_assert(kPollIn == static_cast<uint32_t>(EPOLLIN) &&
              kPollOut == static_cast<uint32_t>(EPOLLOUT) &&
              kPollError == static_cast<uint32_t>(EPOLLERR) &&
              kPollHangUp == static_cast<uint32_t>(EPOLLHUP) &&
              kPollPeerClosed == static_cast<uint32_t>(EPOLLRDHUP) &&
              kPollEdgeTriggered == static_cast<uint32_t>(EPOLLET));

uint64_t make_token(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}

}  // namespace

Poller::Poller() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

Poller::~Poller() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Poller::Token Poller::add(int fd, uint32_t events, PollHandler* handler) {
  uint32_t slot = slots_.acquire();
  Slot& entry = slots_[slot];
  entry.handler = handler;
  Token token = make_token(slot, entry.generation);
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    int error = errno;
    entry.handler = nullptr;
    ++entry.generation;
    slots_.release(slot);
    throw std::system_error(error, std::generic_category(),
                            "evergreen: cannot watch fd " + std::to_string(fd));
  }
  ++live_;
  return token;
}

void Poller::modify(Token token, int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "evergreen: cannot change watch on fd " + std::to_string(fd));
  }
}

void Poller::remove(Token token, int fd) {
  uint32_t slot = static_cast<uint32_t>(token);
  uint32_t generation = static_cast<uint32_t>(token >> 32);
  if (slot >= slots_.size() || slots_[slot].generation != generation) return;
  // A closed fd has already left the epoll set; EBADF/ENOENT are expected then.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  slots_[slot].handler = nullptr;
  ++slots_[slot].generation;
  slots_.release(slot);
  --live_;
}

int Poller::poll(int timeout_ms) {
  epoll_event events[kMaxEventsPerPoll];
  int count = epoll_wait(epoll_fd_, events, kMaxEventsPerPoll, timeout_ms);
  if (count < 0) {
    if (errno == EINTR) return 0;
    throw std::system_error(errno, std::generic_category(), "epoll_wait");
  }
  for (int i = 0; i < count; ++i) {
    uint64_t token = events[i].data.u64;
    uint32_t slot = static_cast<uint32_t>(token);
    uint32_t generation = static_cast<uint32_t>(token >> 32);
    // Re-read the slot each time: an earlier handler in this batch may have
    // removed this registration.
    if (slot >= slots_.size() || slots_[slot].generation != generation) continue;
    PollHandler* handler = slots_[slot].handler;
    if (handler != nullptr) handler->on_poll_events(events[i].events);
  }
  return count;
}

}  // namespace evergreen::internal
