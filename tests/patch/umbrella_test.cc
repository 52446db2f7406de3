// A program that links the umbrella (//:evergreen) but not //patch
// interposes nothing: libc's functions stay libc's for every library in the
// process, patch() says which target is missing, and evergreen::lib's
// explicit cooperative calls still work.
#include <dlfcn.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "evergreen/evergreen.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

// The object holding this test: the executable, evergreen linked into it.
std::string this_object() {
  Dl_info info{};
  dladdr(reinterpret_cast<void*>(&this_object), &info);
  return info.dli_fname != nullptr ? info.dli_fname : "";
}

TEST(UmbrellaTest, LibcFunctionsAreNotInterposed) {
  const std::string self = this_object();
  ASSERT_FALSE(self.empty());
  for (const char* name : {"read", "write", "close", "connect", "poll", "epoll_wait", "nanosleep",
                           "sleep", "getaddrinfo", "fcntl"}) {
    void* found = dlsym(RTLD_DEFAULT, name);
    Dl_info info{};
    ASSERT_NE(dladdr(found, &info), 0) << name;
    // libc's, or a sanitizer runtime's interceptor in front of it: never ours.
    EXPECT_NE(std::string(info.dli_fname), self) << name << "() is defined by the program";
  }
}

TEST(UmbrellaTest, PatchWithoutTheInterposersNamesTheMissingTarget) {
  try {
    patch::patch();
    ADD_FAILURE() << "patch() succeeded with nothing interposed";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("//patch"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(patch::is_patched("socket"));
}

TEST(UmbrellaTest, ExplicitCooperativeCallsStillWork) {
  testing::destroy_this_threads_loop();
  int ticks = 0;
  auto sleeper = spawn([] { lib::time::usleep(50'000); });
  auto ticker = spawn([&] {
    while (sleeper->is_alive()) {
      sleep(5ms);
      ++ticks;
    }
  });
  ticker->join();
  EXPECT_GE(ticks, 2);  // the loop ran while lib::time::usleep waited
  testing::destroy_this_threads_loop();
}

}  // namespace
}  // namespace evergreen
