// Default names formatted only when someone reads them.
//
// Every task the event loop spawns without a name is called "task-N", N
// counting such tasks on its thread. Formatting that string for every spawn
// cost about 90 instructions (and a 32-byte write) per task, while most
// names are never read: only dumps, error reports, the overflow handler and
// name() read them. So a task keeps just N, and the name is formatted where it
// is read. format_numbered_name() is that one formatting, shared by the Task
// (name()) and its Fiber (Fiber::name(), describe(), the overflow report), so
// every reader sees the same name. It allocates nothing and is
// async-signal-safe: the stack-overflow handler and the stall sampler call it
// from signal handlers.
#ifndef EVERGREEN_FIBER_INTERNAL_NUMBERED_NAME_H_
#define EVERGREEN_FIBER_INTERNAL_NUMBERED_NAME_H_

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace evergreen::fiber_internal {

// "task-" and up to 20 digits.
inline constexpr size_t kNumberedNameCapacity = 32;

// Writes "task-<number>" to `out` (not NUL-terminated) and returns its length.
inline size_t format_numbered_name(uint64_t number, char (&out)[kNumberedNameCapacity]) noexcept {
  constexpr char kPrefix[] = "task-";
  constexpr size_t kPrefixLength = sizeof kPrefix - 1;
  std::memcpy(out, kPrefix, kPrefixLength);
  char* end = std::to_chars(out + kPrefixLength, out + kNumberedNameCapacity, number).ptr;
  return static_cast<size_t>(end - out);
}

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_NUMBERED_NAME_H_
