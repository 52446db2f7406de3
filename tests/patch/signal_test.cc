// Signals delivered to a patched program while its tasks run and do I/O
// through the interposed calls. The loop's signal handler must stay
// async-signal-safe here: the interposed write() is not (it may look up
// libc's definition), so the handler must never reach it. Under
// ThreadSanitizer a lookup inside a handler ended in a runtime CHECK failure
// and a spin; the watchdog turns such a hang into a failure.
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/patch/patch_test_support.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using testing::PatchedTest;

using SignalTest = PatchedTest;

// First in this file, so that nothing in the process has called the
// interposed write() before the handler runs: a lazy lookup of libc's write
// would happen inside the signal handler (under TSan: a CHECK failure and a
// spin, which the watchdog turns into a failure).
TEST_F(SignalTest, AFirstSignalBeforeAnyInterposedCallIsHandled) {
  bool handled = false;
  loop().add_signal_handler(SIGUSR2, [&] { handled = true; });
  kill(getpid(), SIGUSR2);
  Timeout bound(20s);
  try {
    while (!handled) sleep(1ms);
  } catch (const Timeout&) {
    ADD_FAILURE() << "the signal was never handled";
  }
  EXPECT_TRUE(handled);
  loop().remove_signal_handler(SIGUSR2);
}

TEST_F(SignalTest, SignalsDeliveredWhileTasksDoPatchedIoAllReachTheirHandler) {
  constexpr int kSignals = 200;
  constexpr int kRaisedInTask = 20;
  int received = 0;
  int raised_received = 0;
  loop().add_signal_handler(SIGUSR1, [&] { ++received; });
  loop().add_signal_handler(SIGUSR2, [&] { ++raised_received; });

  // Two tasks ping-pong bytes over a socket pair with plain read()/write(),
  // the interposed calls, for as long as signals arrive. Every 50th exchange
  // the pinger raises SIGUSR2 itself, so the C handler also runs on the loop's
  // thread, on a task's stack, between two interposed calls.
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  bool done = false;
  long exchanged = 0;
  int raised = 0;
  auto pinger = spawn([&] {
    char byte = 'x';
    while (!done) {
      ASSERT_EQ(write(pair[0], &byte, 1), 1);
      if (++exchanged % 50 == 0 && raised < kRaisedInTask) {
        ++raised;
        raise(SIGUSR2);
      }
      ASSERT_EQ(read(pair[0], &byte, 1), 1);
    }
    close(pair[0]);
  });
  auto ponger = spawn([&] {
    char byte;
    while (read(pair[1], &byte, 1) == 1) {
      if (write(pair[1], &byte, 1) != 1) break;
    }
    close(pair[1]);
  });

  // Another thread sends the signals one by one, each after the loop has
  // handled the one before (coalesced signals would make a count meaningless),
  // so the handler runs while the tasks are mid-I/O. It signals itself
  // (pthread_kill): a signal sent to the whole process may land on the loop's
  // thread, where ThreadSanitizer defers it until that thread enters one of
  // its own interceptors, which a loop busy in interposed I/O may never do;
  // a signal to the sending thread is delivered at once in every build.
  std::atomic<int> handled{0};
  std::atomic<bool> stop_sending{false};
  loop().add_signal_handler(SIGUSR1, [&] { handled.store(received, std::memory_order_release); });
  std::thread sender([&] {
    for (int i = 1; i <= kSignals && !stop_sending.load(); ++i) {
      pthread_kill(pthread_self(), SIGUSR1);
      while (handled.load(std::memory_order_acquire) < i && !stop_sending.load()) {
        std::this_thread::sleep_for(100us);
      }
    }
  });
  auto watcher = spawn([&] {
    while (received < kSignals || raised_received < kRaisedInTask) sleep(1ms);
    done = true;
  });
  Timeout bound(20s);  // a lost signal fails the test instead of hanging it
  try {
    watcher->join();
    pinger->join();
    ponger->join();
  } catch (const Timeout&) {
    ADD_FAILURE() << "only " << received << " of " << kSignals << " sent and " << raised_received
                  << " of " << raised << " raised signals were handled";
    for (auto* task : {&watcher, &pinger, &ponger}) (*task)->kill();
  }
  stop_sending = true;
  sender.join();
  EXPECT_EQ(received, kSignals);
  EXPECT_EQ(raised_received, kRaisedInTask);
  EXPECT_GT(exchanged, 0);
  loop().remove_signal_handler(SIGUSR1);
  loop().remove_signal_handler(SIGUSR2);
}

}  // namespace
}  // namespace evergreen
