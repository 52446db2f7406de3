#include "evergreen/loop/internal/fd_registry.h"

#include <cerrno>
#include <system_error>
#include <utility>

namespace evergreen::internal {

struct FdEntry final : PollHandler {
  FdEntry(FdRegistry& registry, int fd) : registry(registry), fd(fd) {}

  void on_poll_events(uint32_t events) override {
    dispatching = true;
    for (FdListener* listener = listeners.front(); listener != nullptr; listener = cursor) {
      // remove() moves the cursor past a listener it unlinks, so a callback
      // may remove any listener, itself or the next.
      cursor = IntrusiveList<FdListener>::next(listener);
      listener->on_fd_events(events);
    }
    cursor = nullptr;
    dispatching = false;
    if (needs_sync && !retired) {
      needs_sync = false;
      try {
        registry.sync(*this);
      } catch (const std::system_error&) {
        // The fd can no longer be watched (it was closed under us): its
        // listeners would never hear from it again, so say so now.
        registry.forget(fd);
      }
    }
  }

  FdRegistry& registry;
  const int fd;
  Poller::Token token = 0;
  bool registered = false;
  uint32_t registered_events = 0;
  IntrusiveList<FdListener> listeners;
  // The next listener on_poll_events() calls.
  FdListener* cursor = nullptr;
  bool dispatching = false;
  // A listener changed while the entry was dispatching: register again after.
  bool needs_sync = false;
  bool retired = false;
};

namespace {


}  // namespace

void FdRegistry::detach(FdListener& listener) {
  listener.entry_ = nullptr;
  listener.entry_level_triggered_ = false;
}

FdRegistry::FdRegistry(Poller& poller) : poller_(poller) {}

FdRegistry::~FdRegistry() { clear(); }

void FdRegistry::clear() {
  for (auto& [fd, entry] : entries_) {
    if (entry->registered) poller_.remove(entry->token, fd);
    while (FdListener* listener = entry->listeners.pop_front()) detach(*listener);
  }
  entries_.clear();
  retired_.clear();
}

void FdRegistry::sync(FdEntry& entry) {
  uint32_t interest = 0;
  // Edge-triggered, for everything the listeners that cache readiness need.
  uint32_t edge_events = kPollEdgeTriggered;
  bool level_triggered = false;
  for (FdListener* listener = entry.listeners.front(); listener != nullptr;
       listener = IntrusiveList<FdListener>::next(listener)) {
    interest |= listener->interest;
    edge_events |= listener->edge_events;
    level_triggered |= listener->level_triggered;
  }
  for (FdListener* listener = entry.listeners.front(); listener != nullptr;
       listener = IntrusiveList<FdListener>::next(listener)) {
    listener->entry_level_triggered_ = level_triggered;
  }
  uint32_t wanted = level_triggered ? interest : (edge_events | interest);
  if (!entry.registered) {
    entry.token = poller_.add(entry.fd, wanted, &entry);
    entry.registered = true;
  } else if (wanted != entry.registered_events) {
    poller_.modify(entry.token, entry.fd, wanted);
  }
  entry.registered_events = wanted;
}

void FdRegistry::add(int fd, FdListener& listener) {
  auto [slot, created] = entries_.try_emplace(fd);
  if (created) {
    try {
      slot->second = std::make_unique<FdEntry>(*this, fd);
      FdEntry& entry = *slot->second;
      entry.listeners.push_back(&listener);
      listener.entry_ = &entry;
      try {
        sync(entry);
      } catch (...) {
        entry.listeners.remove(&listener);
        detach(listener);
        throw;
      }
    } catch (...) {
      entries_.erase(fd);
      throw;
    }
    return;
  }
  FdEntry& entry = *slot->second;
  entry.listeners.push_back(&listener);
  listener.entry_ = &entry;
  try {
    // Asked of the kernel even when the events stay the same: if the fd was
    // closed while watched and its number reused, the old registration is
    // gone and the new file needs one of its own.
    try {
      poller_.modify(entry.token, fd, entry.registered_events);
    } catch (const std::system_error& error) {
      if (error.code().value() != ENOENT) throw;
      poller_.remove(entry.token, fd);
      entry.registered = false;
    }
    sync(entry);
  } catch (...) {
    remove(listener);
    throw;
  }
}

void FdRegistry::update(FdListener& listener) {
  FdEntry& entry = *listener.entry_;
  if (entry.dispatching) {
    entry.needs_sync = true;
    return;
  }
  sync(entry);
}

void FdRegistry::remove(FdListener& listener) {
  FdEntry& entry = *listener.entry_;
  if (entry.cursor == &listener) entry.cursor = IntrusiveList<FdListener>::next(&listener);
  entry.listeners.remove(&listener);
  detach(listener);
  if (entry.listeners.empty()) {
    if (entry.registered) poller_.remove(entry.token, entry.fd);
    entry.registered = false;
    retire(entry);
    return;
  }
  if (entry.dispatching) {
    entry.needs_sync = true;
    return;
  }
  try {
    sync(entry);
  } catch (const std::system_error&) {
    // Narrowing failed, so the fd is gone from the kernel's set already (it
    // was closed): nothing is left to narrow.
  }
}

void FdRegistry::forget(int fd) {
  auto found = entries_.find(fd);
  if (found == entries_.end()) return;
  FdEntry& entry = *found->second;
  if (entry.registered) poller_.remove(entry.token, fd);
  entry.registered = false;
  entry.cursor = nullptr;
  retire(entry);
  // Told after the entry left the map: a listener may watch the fd's number
  // again (a new file) from its callback.
  while (FdListener* listener = entry.listeners.pop_front()) {
    detach(*listener);
    listener->on_fd_forgotten();
  }
}

void FdRegistry::collect_retired() {
  if (!retired_.empty()) retired_.clear();
}

void FdRegistry::retire(FdEntry& entry) {
  entry.retired = true;
  auto found = entries_.find(entry.fd);
  if (found == entries_.end() || found->second.get() != &entry) return;
  // The entry may be dispatching (a listener removing itself): it is freed
  // at the next collect_retired().
  retired_.push_back(std::move(found->second));
  entries_.erase(found);
}

}  // namespace evergreen::internal
