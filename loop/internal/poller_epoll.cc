#include "evergreen/loop/internal/poller_epoll.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace evergreen::internal {
namespace {

constexpr int kMaxEventsPerPoll = 256;

uint64_t make_token(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}

uint32_t to_epoll(uint32_t events) {
  uint32_t out = 0;
  if (events & kPollIn) out |= EPOLLIN;
  if (events & kPollPriority) out |= EPOLLPRI;
  if (events & kPollOut) out |= EPOLLOUT;
  if (events & kPollPeerClosed) out |= EPOLLRDHUP;
  if (events & kPollEdgeTriggered) out |= EPOLLET;
  return out;
}

// Called for every event: branch-free shifts where the bits allow it.
uint32_t from_epoll(uint32_t events) {
  static_assert(EPOLLIN == 0x1 && EPOLLPRI == 0x2 && EPOLLOUT == 0x4 && EPOLLERR == 0x8 &&
                EPOLLHUP == 0x10 && EPOLLRDHUP == 0x2000);
  static_assert(kPollIn == 0x1 && kPollPriority == 0x2 && kPollOut == 0x4 && kPollError == 0x8 &&
                kPollHangUp == 0x10 && kPollPeerClosed == 0x20);
  return (events & 0x1f) | ((events & EPOLLRDHUP) >> 8);
}

}  // namespace

EpollPoller::EpollPoller() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

EpollPoller::~EpollPoller() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Poller::Token EpollPoller::add(int fd, uint32_t events, PollHandler* handler) {
  uint32_t slot = slots_.acquire();
  Slot& entry = slots_[slot];
  entry.handler = handler;
  Token token = make_token(slot, entry.generation);
  epoll_event event{};
  event.events = to_epoll(events);
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

void EpollPoller::modify(Token token, int fd, uint32_t events) {
  epoll_event event{};
  event.events = to_epoll(events);
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "evergreen: cannot change watch on fd " + std::to_string(fd));
  }
}

void EpollPoller::remove(Token token, int fd) {
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

int EpollPoller::poll(int timeout_ms) {
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
    if (handler != nullptr) handler->on_poll_events(from_epoll(events[i].events));
  }
  return count;
}

}  // namespace evergreen::internal
