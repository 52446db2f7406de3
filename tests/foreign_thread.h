// Helpers for the tests of the single-loop rule (API.md, Conventions): call
// an object's member from another OS thread and look at what it threw.
#ifndef EVERGREEN_TESTS_FOREIGN_THREAD_H_
#define EVERGREEN_TESTS_FOREIGN_THREAD_H_

#include <unistd.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"

namespace evergreen::testing {

// What a call made on another thread did.
struct ForeignCall {
  bool threw_logic_error = false;
  std::string message;  // the logic_error's, or what else happened
  int thread_id = 0;    // the other thread's kernel id (gettid)
};

// Runs `fn` on a new std::thread (which has no event loop) and waits for it.
template <class F>
ForeignCall call_on_another_thread(F&& fn) {
  ForeignCall result;
  std::thread thread([&] {
    result.thread_id = static_cast<int>(gettid());
    try {
      fn();
      result.message = "returned normally";
    } catch (const std::logic_error& error) {
      result.threw_logic_error = true;
      result.message = error.what();
    } catch (const std::exception& error) {
      result.message = std::string("threw another exception: ") + error.what();
    } catch (...) {
      result.message = "threw a non-std exception";
    }
  });
  thread.join();
  return result;
}

// Checks that `call` threw std::logic_error naming `type` and both threads:
// the caller's (this thread, the object's owner) and the other one.
inline void expect_wrong_thread_error(const ForeignCall& call, const std::string& type) {
  ASSERT_TRUE(call.threw_logic_error) << call.message;
  EXPECT_NE(call.message.find("evergreen::" + type + " 0x"), std::string::npos) << call.message;
  EXPECT_NE(call.message.find("thread " + std::to_string(gettid())), std::string::npos)
      << "names the owning thread: " << call.message;
  EXPECT_NE(call.message.find("thread " + std::to_string(call.thread_id)), std::string::npos)
      << "names the calling thread: " << call.message;
}

// The check exists only in builds without NDEBUG; a fixture's SetUp() calls
// this so that the tests are skipped, not failed, in --config=opt.
inline bool thread_checks_compiled_in() {
#ifdef NDEBUG
  return false;
#else
  return true;
#endif
}

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_FOREIGN_THREAD_H_
