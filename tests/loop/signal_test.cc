#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::LoopTest;

TEST_F(LoopTest, SignalReachesEveryHandlerAddedForIt) {
  int first = 0, second = 0;
  std::thread::id ran_on;
  loop().add_signal_handler(SIGUSR1, [&] {
    ++first;
    ran_on = std::this_thread::get_id();
  });
  loop().add_signal_handler(SIGUSR1, [&] { ++second; });
  loop().call_soon([] { kill(getpid(), SIGUSR1); });
  loop().call_later(5s, [&] { loop().stop(); });  // bound in case it never arrives
  auto check = spawn([&] {
    while (second == 0) sleep(1ms);
    loop().stop();
  });
  loop().run();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  loop().remove_signal_handler(SIGUSR1);
}

TEST_F(LoopTest, CancellingOneSignalHandlerRemovesOnlyIt) {
  int kept = 0, cancelled = 0;
  Handler to_cancel = loop().add_signal_handler(SIGUSR2, [&] { ++cancelled; });
  loop().add_signal_handler(SIGUSR2, [&] { ++kept; });
  to_cancel.cancel();
  loop().call_soon([] { kill(getpid(), SIGUSR2); });
  loop().call_later(5s, [&] { loop().stop(); });
  spawn([&] {
    while (kept == 0) sleep(1ms);
    loop().stop();
  });
  loop().run();
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(cancelled, 0);
  EXPECT_TRUE(loop().remove_signal_handler(SIGUSR2));
  EXPECT_FALSE(loop().remove_signal_handler(SIGUSR2));
}

TEST_F(LoopTest, SignalHandlersDoNotKeepRunGoing) {
  loop().add_signal_handler(SIGUSR1, [] {});
  loop().run();  // returns: nothing else to do
  SUCCEED();
  loop().remove_signal_handler(SIGUSR1);
}

TEST_F(LoopTest, InvalidSignalIsRejected) {
  EXPECT_THROW(loop().add_signal_handler(0, [] {}), std::invalid_argument);
  EXPECT_THROW(loop().add_signal_handler(SIGKILL, [] {}), std::invalid_argument);
  EXPECT_THROW(loop().add_signal_handler(1000, [] {}), std::invalid_argument);
}

// A handler for a fault signal would record the signal and return, and the
// faulting instruction would run again: a spin at full CPU, not a crash.
TEST_F(LoopTest, SynchronousFaultSignalsAreRefusedWithTheirName) {
  for (int signum : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) {
    try {
      loop().add_signal_handler(signum, [] {});
      ADD_FAILURE() << "signal " << signum << " was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(std::string("SIG") + sigabbrev_np(signum)),
                std::string::npos)
          << error.what();
    }
    EXPECT_FALSE(loop().remove_signal_handler(signum));
  }
}

}  // namespace
}  // namespace evergreen
