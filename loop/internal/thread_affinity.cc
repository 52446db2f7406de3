#include "evergreen/loop/internal/thread_affinity.h"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace evergreen::internal {
namespace {

// A thread's name as the kernel keeps it (pthread_setname_np, or the
// program's name), or a note that it has ended. Read only to build a message.
std::string thread_label(int tid) {
  std::string label = "thread " + std::to_string(tid);
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) {
    label += " (\"" + name + "\")";
  } else {
    label += " (which has exited)";
  }
  return label;
}

// The message: "evergreen: Queue::put_nowait() called from thread ..., but
// evergreen::Queue 0x... belongs to the loop of thread ...". `qualified` is
// the type with its namespace.
std::string wrong_thread_message(const void* object, std::string_view qualified, const char* member,
                                 int owner, int caller) {
  std::string_view unqualified = qualified;
  if (unqualified.starts_with("evergreen::")) unqualified.remove_prefix(11);
  char address[32];
  std::snprintf(address, sizeof address, "%p", object);
  return "evergreen: " + std::string(unqualified) + "::" + member + "() called from " +
         thread_label(caller) + ", but " + std::string(qualified) + " " + address +
         " belongs to the loop of " + thread_label(owner) +
         ": a single-loop object may be used only from its loop's thread (hand work to that "
         "loop with EventLoop::call_from_thread)";
}

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name != nullptr ? std::string(name.get()) : std::string(type.name());
}

}  // namespace

constinit thread_local int cached_thread_id = 0;

int cache_this_thread_id() {
  cached_thread_id = static_cast<int>(gettid());
  return cached_thread_id;
}

bool ThreadAffinity::try_bind(int self) const {
  int owner = 0;
  // Relaxed: see the header. Whoever wins the race owns the object; a loser
  // on another thread then sees the winner's id.
  return owner_.compare_exchange_strong(owner, self, std::memory_order_relaxed) || owner == self;
}

void ThreadAffinity::bind_or_throw(int self, const void* object, const char* type,
                                   const char* member) const {
  if (try_bind(self)) return;
  throw std::logic_error(
      wrong_thread_message(object, std::string("evergreen::") + type, member, owner(), self));
}

void ThreadAffinity::bind_or_throw(int self, const void* object, const std::type_info& type,
                                   const char* member) const {
  if (try_bind(self)) return;
  throw std::logic_error(wrong_thread_message(object, demangle(type), member, owner(), self));
}

}  // namespace evergreen::internal
