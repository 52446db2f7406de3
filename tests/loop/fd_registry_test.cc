// FdRegistry against a real Poller (epoll): what its users rely on - one
// kernel registration per fd however many listeners share it, edge- or
// level-triggered as the listeners ask, listeners that add and remove
// listeners while being called, forget() before close, and fds whose number
// is reused.
#include "evergreen/loop/internal/fd_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "evergreen/loop/internal/poller_epoll.h"
#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

// Both ends of a pipe (or a socketpair), closed on destruction.
struct FdPair {
  static FdPair pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << errno;
    return FdPair(fds[0], fds[1]);
  }
  static FdPair sockets() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      ADD_FAILURE() << "socketpair: " << errno;
    }
    return FdPair(fds[0], fds[1]);
  }
  FdPair(int read, int write) : read(read), write(write) {}
  FdPair(FdPair&& other) : read(other.read), write(other.write) { other.read = other.write = -1; }
  FdPair& operator=(FdPair&&) = delete;
  ~FdPair() { close_both(); }

  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_both() {
    close_read();
    if (write >= 0) ::close(write);
    write = -1;
  }
  void put(const char* bytes = "x") const {
    ASSERT_EQ(::write(write, bytes, 1), 1);
  }
  void drain() const {
    char buffer[64];
    while (::read(read, buffer, sizeof buffer) > 0) {
    }
  }

  int read;
  int write;
};

// Records what it hears; `on_events` runs after the recording. Removes itself
// on destruction if still registered, so a failed test does not leave the
// registry pointing at a dead listener.
struct Recorder : FdListener {
  explicit Recorder(FdRegistry& registry, uint32_t wanted = kPollIn, bool level = false)
      : registry(registry) {
    interest = wanted;
    level_triggered = level;
  }
  ~Recorder() override {
    if (registered()) registry.remove(*this);
  }
  void on_fd_events(uint32_t events) override {
    ++calls;
    last_events = events;
    if (on_events) on_events(events);
  }
  void on_fd_forgotten() override {
    ++forgotten;
    if (on_forgotten) on_forgotten();
  }

  FdRegistry& registry;
  int calls = 0;
  uint32_t last_events = 0;
  int forgotten = 0;
  std::function<void(uint32_t)> on_events;
  std::function<void()> on_forgotten;
};

// The events the kernel has `fd` registered for in this process's epoll set
// (from /proc/self/fdinfo), or nothing if it is not registered.
std::optional<uint32_t> kernel_events(int fd) {
  std::optional<uint32_t> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (dirent* item = ::readdir(dir)) {
    std::string path = std::string("/proc/self/fd/") + item->d_name;
    char target[64] = {};
    if (::readlink(path.c_str(), target, sizeof target - 1) <= 0) continue;
    if (std::string(target) != "anon_inode:[eventpoll]") continue;
    std::string info = std::string("/proc/self/fdinfo/") + item->d_name;
    FILE* file = std::fopen(info.c_str(), "r");
    if (file == nullptr) continue;
    char line[256];
    while (std::fgets(line, sizeof line, file) != nullptr) {
      int tfd = -1;
      unsigned events = 0;
      if (std::sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2 && tfd == fd) {
        found = events;
      }
    }
    std::fclose(file);
  }
  ::closedir(dir);
  return found;
}

class FdRegistryTest : public ::testing::Test {
 protected:
  // One loop iteration: poll, then free what was retired during dispatch.
  int poll(int timeout_ms = 0) {
    int count = poller.poll(timeout_ms);
    registry.collect_retired();
    return count;
  }

  EpollPoller poller;
  FdRegistry registry{poller};
};

// --- Sharing one registration ---------------------------------------------------

TEST_F(FdRegistryTest, TwoListenersOnOneFdShareOneRegistrationAndBothHearEvents) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  EXPECT_TRUE(first.registered());
  EXPECT_TRUE(second.registered());
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(poller.size(), 1u);

  pipe.put();
  EXPECT_EQ(poll(), 1);  // one kernel event for both
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 1);
  EXPECT_TRUE(first.last_events & kPollIn);
  EXPECT_TRUE(second.last_events & kPollIn);
}

TEST_F(FdRegistryTest, RemovingOneListenerKeepsTheOtherHearing) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  registry.remove(first);
  EXPECT_FALSE(first.registered());
  EXPECT_TRUE(second.registered());
  EXPECT_EQ(poller.size(), 1u);

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 0);
  EXPECT_EQ(second.calls, 1);
}

TEST_F(FdRegistryTest, RemovingTheLastListenerUnregistersTheFd) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  registry.remove(first);
  registry.remove(second);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
  EXPECT_FALSE(kernel_events(pipe.read).has_value());

  pipe.put();
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(first.calls + second.calls, 0);
}

TEST_F(FdRegistryTest, FdWatchedAgainAfterItsLastListenerLeftHearsEvents) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  registry.add(pipe.read, first);
  registry.remove(first);
  registry.add(pipe.read, second);
  EXPECT_EQ(poller.size(), 1u);
  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 0);
  EXPECT_EQ(second.calls, 1);
}

// --- Edge- and level-triggered ----------------------------------------------------

TEST_F(FdRegistryTest, EdgeTriggeredEntryReportsEachChangeOnce) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  EXPECT_FALSE(first.entry_level_triggered());

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 1);
  // Still readable, nothing new: no event.
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 1);
  // More data is a change: one more event.
  pipe.put();
  poll();
  poll();
  EXPECT_EQ(first.calls, 2);
  EXPECT_EQ(second.calls, 2);
}

TEST_F(FdRegistryTest, EdgeTriggeredEntryReportsEverythingACachingListenerNeeds) {
  // Listeners that cache readiness get input, output and peer close whatever
  // their own interest says.
  FdPair sockets = FdPair::sockets();
  Recorder listener(registry, /*wanted=*/0);
  registry.add(sockets.read, listener);
  poll();
  EXPECT_EQ(listener.calls, 1);
  EXPECT_TRUE(listener.last_events & kPollOut);

  ::shutdown(sockets.write, SHUT_WR);
  poll();
  EXPECT_EQ(listener.calls, 2);
  EXPECT_TRUE(listener.last_events & kPollPeerClosed);
}

TEST_F(FdRegistryTest, EdgeTriggeredEntryWatchesOnlyTheEdgeEventsItsListenersName) {
  // A listener whose reads wait elsewhere (an io_uring receive) leaves input
  // out: the kernel registration has no EPOLLIN, and a later listener that
  // wants input brings it back.
  FdPair sockets = FdPair::sockets();
  Recorder writes_only(registry, /*wanted=*/0);
  writes_only.edge_events = kPollOut;
  registry.add(sockets.read, writes_only);
  std::optional<uint32_t> events = kernel_events(sockets.read);
  ASSERT_TRUE(events.has_value());
  EXPECT_FALSE(*events & EPOLLIN);
  EXPECT_TRUE(*events & EPOLLOUT);
  poll();  // the socket is writable: one event
  int calls = writes_only.calls;
  ASSERT_EQ(::write(sockets.write, "x", 1), 1);
  poll();
  EXPECT_EQ(writes_only.calls, calls) << "an arrival was reported to a listener without input";

  Recorder everything(registry, /*wanted=*/0);
  registry.add(sockets.read, everything);
  events = kernel_events(sockets.read);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(*events & EPOLLIN);
}

TEST_F(FdRegistryTest, ListenerAddedToAReadableEdgeTriggeredFdHearsItIsReadable) {
  // The first listener already consumed the edge; the newcomer must still
  // learn that the fd is readable.
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), late(registry);
  registry.add(pipe.read, first);
  pipe.put();
  poll();
  ASSERT_EQ(first.calls, 1);
  ASSERT_EQ(poll(), 0);

  registry.add(pipe.read, late);
  poll();
  EXPECT_EQ(late.calls, 1);
  EXPECT_TRUE(late.last_events & kPollIn);
}

TEST_F(FdRegistryTest, OneLevelTriggeredListenerMakesTheEntryReportWhileReadable) {
  FdPair pipe = FdPair::pipe();
  Recorder edge(registry), level(registry, kPollIn, /*level=*/true);
  registry.add(pipe.read, edge);
  EXPECT_FALSE(edge.entry_level_triggered());
  registry.add(pipe.read, level);
  EXPECT_TRUE(edge.entry_level_triggered());
  EXPECT_TRUE(level.entry_level_triggered());
  EXPECT_EQ(poller.size(), 1u);

  pipe.put();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(poll(), 1);
  EXPECT_EQ(level.calls, 3);
  EXPECT_EQ(edge.calls, 3);  // every event goes to every listener

  pipe.drain();
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(level.calls, 3);
}

TEST_F(FdRegistryTest, LevelTriggeredEntryWatchesOnlyTheListenersInterest) {
  // A socket is always writable: a level-triggered entry that only wants
  // input must not report it over and over.
  FdPair sockets = FdPair::sockets();
  Recorder level(registry, kPollIn, /*level=*/true);
  registry.add(sockets.read, level);
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(level.calls, 0);

  level.interest = kPollIn | kPollOut;
  registry.update(level);
  EXPECT_EQ(poll(), 1);
  EXPECT_EQ(poll(), 1);
  EXPECT_TRUE(level.last_events & kPollOut);
}

TEST_F(FdRegistryTest, RemovingTheLevelTriggeredListenerReturnsTheEntryToEdgeTriggered) {
  FdPair pipe = FdPair::pipe();
  Recorder edge(registry), level(registry, kPollIn, /*level=*/true);
  registry.add(pipe.read, edge);
  registry.add(pipe.read, level);
  pipe.put();
  EXPECT_EQ(poll(), 1);
  EXPECT_EQ(poll(), 1);

  registry.remove(level);
  EXPECT_FALSE(edge.entry_level_triggered());
  EXPECT_EQ(poller.size(), 1u);
  auto events = kernel_events(pipe.read);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(*events & EPOLLET);
  // Re-registering edge-triggered may report the current readiness once;
  // after that, nothing until something changes.
  poll();
  int calls = edge.calls;
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(edge.calls, calls);
  pipe.put();
  poll();
  EXPECT_EQ(edge.calls, calls + 1);
}

// --- Changing listeners while dispatching ---------------------------------------

TEST_F(FdRegistryTest, ListenerRemovingItselfWhileCalledLeavesTheOthersCalled) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), middle(registry), last(registry);
  middle.on_events = [&](uint32_t) { registry.remove(middle); };
  registry.add(pipe.read, first);
  registry.add(pipe.read, middle);
  registry.add(pipe.read, last);

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(middle.calls, 1);
  EXPECT_EQ(last.calls, 1);
  EXPECT_FALSE(middle.registered());

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 2);
  EXPECT_EQ(middle.calls, 1);
  EXPECT_EQ(last.calls, 2);
}

TEST_F(FdRegistryTest, ListenerRemovingTheNextListenerWhileCalledSkipsIt) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry), third(registry);
  first.on_events = [&](uint32_t) { registry.remove(second); };
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  registry.add(pipe.read, third);

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(third.calls, 1);
  EXPECT_FALSE(second.registered());
  EXPECT_EQ(poller.size(), 1u);
}

TEST_F(FdRegistryTest, ListenerRemovingItselfAndTheNextWhileCalledLeavesTheRestCalled) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry), third(registry);
  first.on_events = [&](uint32_t) {
    registry.remove(first);
    registry.remove(second);
  };
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);
  registry.add(pipe.read, third);

  pipe.put();
  poll();
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(third.calls, 1);
  EXPECT_EQ(poller.size(), 1u);
}

TEST_F(FdRegistryTest, LastListenersRemovingThemselvesWhileCalledUnregisterTheFd) {
  // The entry is retired while it is still dispatching; it must stay alive
  // until collect_retired() (ASan checks).
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  first.on_events = [&](uint32_t) {
    registry.remove(second);
    registry.remove(first);
  };
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
  pipe.put();
  EXPECT_EQ(poll(), 0);
}

TEST_F(FdRegistryTest, RemovingTheLevelTriggeredListenerWhileCalledReturnsToEdgeAfterDispatch) {
  FdPair pipe = FdPair::pipe();
  Recorder edge(registry), level(registry, kPollIn, /*level=*/true);
  level.on_events = [&](uint32_t) { registry.remove(level); };
  registry.add(pipe.read, level);
  registry.add(pipe.read, edge);

  pipe.put();
  poll();
  EXPECT_EQ(edge.calls, 1);
  EXPECT_FALSE(edge.entry_level_triggered());
  auto events = kernel_events(pipe.read);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(*events & EPOLLET);
  poll();  // re-registering may report the readiness once
  int calls = edge.calls;
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(edge.calls, calls);
}

TEST_F(FdRegistryTest, UpdateWhileDispatchingTakesEffectAfterDispatch) {
  FdPair sockets = FdPair::sockets();
  sockets.put();  // the read end is readable (and, as always, writable)
  Recorder level(registry, kPollIn, /*level=*/true);
  std::optional<uint32_t> during;
  level.on_events = [&](uint32_t) {
    if (level.interest != kPollIn) return;
    level.interest = kPollOut;
    registry.update(level);
    during = kernel_events(sockets.read);
  };
  registry.add(sockets.read, level);

  poll();
  ASSERT_EQ(level.calls, 1);
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(*during & (kPollIn | kPollOut), kPollIn);  // not yet
  auto after = kernel_events(sockets.read);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after & (kPollIn | kPollOut), kPollOut);

  poll();
  EXPECT_EQ(level.calls, 2);
  EXPECT_EQ(level.last_events & (kPollIn | kPollOut), kPollOut);
}

TEST_F(FdRegistryTest, UpdateOutsideDispatchTakesEffectAtOnce) {
  FdPair sockets = FdPair::sockets();
  Recorder level(registry, kPollOut, /*level=*/true);
  registry.add(sockets.read, level);
  EXPECT_EQ(poll(), 1);
  level.interest = kPollIn;
  registry.update(level);
  EXPECT_EQ(poll(), 0);
  sockets.put();
  EXPECT_EQ(poll(), 1);
  EXPECT_EQ(level.last_events & (kPollIn | kPollOut), kPollIn);
}

TEST_F(FdRegistryTest, FdClosedWhileCalledIsForgottenWhenTheDeferredUpdateFails) {
  // A listener closes the fd and changes its interest while being called:
  // the registration after dispatch fails, and the listeners are told the fd
  // is gone rather than never hearing from it again.
  FdPair sockets = FdPair::sockets();
  sockets.put();
  Recorder level(registry, kPollIn, /*level=*/true);
  Recorder other(registry);
  level.on_events = [&](uint32_t) {
    sockets.close_read();
    level.interest = kPollOut;
    registry.update(level);
  };
  registry.add(sockets.read, level);
  registry.add(sockets.read, other);

  poll();
  EXPECT_EQ(level.forgotten, 1);
  EXPECT_EQ(other.forgotten, 1);
  EXPECT_FALSE(level.registered());
  EXPECT_FALSE(other.registered());
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
}

// --- forget() -----------------------------------------------------------------------

TEST_F(FdRegistryTest, ForgetTellsEveryListenerAndUnregisters) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry, kPollIn, /*level=*/true);
  bool registered_when_told = true;
  first.on_forgotten = [&] { registered_when_told = first.registered(); };
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);

  registry.forget(pipe.read);
  EXPECT_EQ(first.forgotten, 1);
  EXPECT_EQ(second.forgotten, 1);
  EXPECT_FALSE(registered_when_told);
  EXPECT_FALSE(first.registered());
  EXPECT_FALSE(second.registered());
  EXPECT_FALSE(second.entry_level_triggered());
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);

  pipe.put();
  EXPECT_EQ(poll(), 0);
  EXPECT_EQ(first.calls + second.calls, 0);
}

TEST_F(FdRegistryTest, ForgetOfAnUnwatchedFdDoesNothing) {
  FdPair watched = FdPair::pipe(), other = FdPair::pipe();
  Recorder listener(registry);
  registry.add(watched.read, listener);
  registry.forget(other.read);
  EXPECT_EQ(listener.forgotten, 0);
  EXPECT_TRUE(listener.registered());
  EXPECT_EQ(poller.size(), 1u);
}

TEST_F(FdRegistryTest, ListenerMayWatchANewFileWithTheSameNumberFromOnFdForgotten) {
  FdPair pipe = FdPair::pipe();
  const int number = pipe.read;
  Recorder first(registry), second(registry), successor(registry);
  std::optional<FdPair> replacement;
  first.on_forgotten = [&] {
    pipe.close_read();
    replacement.emplace(FdPair::pipe());
    ASSERT_EQ(replacement->read, number);
    registry.add(number, successor);
  };
  registry.add(number, first);
  registry.add(number, second);

  registry.forget(number);
  EXPECT_EQ(first.forgotten, 1);
  EXPECT_EQ(second.forgotten, 1);  // the old file's listeners, all of them
  EXPECT_EQ(successor.forgotten, 0);
  EXPECT_TRUE(successor.registered());
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(poller.size(), 1u);

  ASSERT_TRUE(replacement.has_value());
  replacement->put();
  poll();
  EXPECT_EQ(successor.calls, 1);
  EXPECT_EQ(first.calls + second.calls, 0);
}

TEST_F(FdRegistryTest, ForgetWhileDispatchingStopsCallingTheForgottenListeners) {
  FdPair pipe = FdPair::pipe();
  Recorder first(registry), second(registry);
  first.on_events = [&](uint32_t) { registry.forget(pipe.read); };
  registry.add(pipe.read, first);
  registry.add(pipe.read, second);

  pipe.put();
  poll();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(first.forgotten, 1);
  EXPECT_EQ(second.forgotten, 1);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
}

// --- Refused and reused fds ---------------------------------------------------------

TEST_F(FdRegistryTest, AddingARegularFileThrowsAndLeavesNothingBehind) {
  std::string path = ::testing::TempDir() + "/fd_registry_test_XXXXXX";
  int file = ::mkstemp(path.data());
  ASSERT_GE(file, 0);
  ::unlink(path.c_str());
  FdPair pipe = FdPair::pipe();
  Recorder watching(registry), refused(registry);
  registry.add(pipe.read, watching);

  try {
    registry.add(file, refused);
    ADD_FAILURE() << "a regular file was accepted";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EPERM);
  }
  EXPECT_FALSE(refused.registered());
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(poller.size(), 1u);
  // The fd can be tried again (nothing half-made was kept for it).
  EXPECT_THROW(registry.add(file, refused), std::system_error);
  EXPECT_EQ(registry.size(), 1u);
  ::close(file);
}

TEST_F(FdRegistryTest, FdClosedWhileWatchedAndItsNumberReusedCanBeWatchedAgain) {
  FdPair old_pipe = FdPair::pipe();
  const int number = old_pipe.read;
  Recorder old_listener(registry), new_listener(registry);
  registry.add(number, old_listener);
  old_pipe.close_read();  // without forget(): the kernel drops its registration

  FdPair new_pipe = FdPair::pipe();
  ASSERT_EQ(new_pipe.read, number);
  registry.add(number, new_listener);
  EXPECT_TRUE(new_listener.registered());
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(poller.size(), 1u);
  EXPECT_TRUE(kernel_events(number).has_value());

  new_pipe.put();
  poll();
  EXPECT_EQ(new_listener.calls, 1);
  EXPECT_TRUE(new_listener.last_events & kPollIn);
}

TEST_F(FdRegistryTest, FdNumberReusedByARegularFileIsRefusedForTheNewListener) {
  FdPair old_pipe = FdPair::pipe();
  const int number = old_pipe.read;
  Recorder old_listener(registry), new_listener(registry);
  registry.add(number, old_listener);
  old_pipe.close_read();

  std::string path = ::testing::TempDir() + "/fd_registry_test_XXXXXX";
  int file = ::mkstemp(path.data());
  ASSERT_EQ(file, number);
  ::unlink(path.c_str());
  EXPECT_THROW(registry.add(number, new_listener), std::system_error);
  EXPECT_FALSE(new_listener.registered());
  // The old listener is still there until the fd is forgotten.
  registry.forget(number);
  EXPECT_EQ(old_listener.forgotten, 1);
  EXPECT_EQ(new_listener.forgotten, 0);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
  ::close(file);
}

// --- clear() -------------------------------------------------------------------------

TEST_F(FdRegistryTest, ClearDetachesEveryListenerWithoutTellingThem) {
  FdPair first_pipe = FdPair::pipe(), second_pipe = FdPair::pipe();
  Recorder first(registry), second(registry, kPollIn, /*level=*/true);
  registry.add(first_pipe.read, first);
  registry.add(second_pipe.read, second);
  registry.clear();
  EXPECT_FALSE(first.registered());
  EXPECT_FALSE(second.registered());
  EXPECT_EQ(first.forgotten + second.forgotten, 0);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(poller.size(), 0u);
  first_pipe.put();
  second_pipe.put();
  EXPECT_EQ(poll(), 0);
}

}  // namespace
}  // namespace evergreen::internal
