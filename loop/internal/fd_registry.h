// FdRegistry: the one place a loop keeps track of the file descriptors it
// watches. Every user of an fd on this loop - EventLoop::add_reader/add_writer,
// io's streams and servers, the c-ares resolver, patch's blocking calls - is
// an FdListener on the fd's single entry, and each entry is one poller
// registration, however many listeners share it. So two users of one fd never
// collide in the kernel (no dup() is needed to watch an fd someone else
// watches) and an fd is registered and unregistered in one place.
//
// How an entry is registered follows from its listeners:
// - edge-triggered for input, output and peer close while no listener is
//   level-triggered: one registration for the fd's whole life, no system call
//   per read or write. Each listener keeps its own cached readiness.
// - level-triggered, for exactly the union of the listeners' interest, while
//   any listener is level-triggered (a callback that wants to be called as
//   long as the fd is readable, c-ares). Listeners that cache readiness then
//   keep their interest up to date (`interest` plus update()).
// Every event goes to every listener of the entry, which picks out what it
// cares about.
//
// Single-threaded: everything runs on the loop's thread.
#ifndef EVERGREEN_LOOP_INTERNAL_FD_REGISTRY_H_
#define EVERGREEN_LOOP_INTERNAL_FD_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/poller.h"

namespace evergreen::internal {

class FdRegistry;
struct FdEntry;  // one watched fd: defined in fd_registry.cc

class FdListener : public IntrusiveListNode<FdListener> {
 public:
  virtual ~FdListener() = default;

  // Called on the loop fiber with the fd's ready bits (kPoll*). May add,
  // update or remove listeners of any fd, this one included.
  virtual void on_fd_events(uint32_t events) = 0;
  // The fd is being closed (FdRegistry::forget()): the listener has already
  // been removed and must not use the fd again.
  virtual void on_fd_forgotten() {}

  // What this listener wants reported (kPoll* bits, or any of epoll's and
  // poll's for patch). Set before add(); change it with update().
  uint32_t interest = 0;
  // Whether it wants an event on every poll while the fd is ready, rather
  // than one per change. Set before add().
  bool level_triggered = false;
  // What an edge-triggered entry watches for this listener (kPoll* bits);
  // by default input, output and peer close. A listener whose reads wait
  // elsewhere (an io_uring receive) leaves out input, so that each arrival
  // does not raise a wake-up it would ignore. Change it with update().
  uint32_t edge_events = kPollIn | kPollOut | kPollPeerClosed;

  bool registered() const { return entry_ != nullptr; }
  // Whether the entry is level-triggered now: a listener that caches
  // readiness must then keep `interest` current and call update().
  bool entry_level_triggered() const { return entry_level_triggered_; }

 private:
  friend class FdRegistry;
  FdEntry* entry_ = nullptr;
  bool entry_level_triggered_ = false;
};

class FdRegistry {
 public:
  explicit FdRegistry(Poller& poller);
  // Entries still held are unregistered and their listeners detached.
  ~FdRegistry();
  FdRegistry(const FdRegistry&) = delete;
  FdRegistry& operator=(const FdRegistry&) = delete;

  // Adds `listener` (not yet registered) for `fd`. Throws std::system_error if
  // the poller refuses the fd (EPERM: a regular file or another fd that never
  // blocks), leaving nothing behind.
  void add(int fd, FdListener& listener);
  // The listener's `interest` changed. Throws std::system_error if the poller
  // refuses the change; the listener stays added.
  void update(FdListener& listener);
  // Removes a registered listener; the last one out unregisters the fd.
  void remove(FdListener& listener);
  // `fd` is about to be closed: removes every listener (each is told through
  // on_fd_forgotten()) and unregisters it. Nothing if the fd is not watched.
  void forget(int fd);

  // Unregisters every fd and detaches every listener, telling none of them
  // (the loop is being destroyed; its destroy listeners ran first).
  void clear();

  // Frees entries left behind while they were dispatching. The loop calls it
  // once per iteration, when no entry is dispatching.
  void collect_retired();

  // Number of fds watched.
  size_t size() const { return entries_.size(); }

 private:
  friend struct FdEntry;

  // Registers or re-registers the entry for what its listeners want now.
  void sync(FdEntry& entry);
  void retire(FdEntry& entry);
  static void detach(FdListener& listener);

  Poller& poller_;
  std::unordered_map<int, std::unique_ptr<FdEntry>> entries_;
  std::vector<std::unique_ptr<FdEntry>> retired_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_FD_REGISTRY_H_
