#include "evergreen/fiber/internal/overflow_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "evergreen/fiber/internal/numbered_name.h"
#include "evergreen/fiber/internal/stack_pool.h"

namespace evergreen::fiber_internal {
namespace {

constexpr size_t kAltStackSize = 64 * 1024;
// How far below its stack a fiber's stack pointer may be and still count as
// an overflow: a frame larger than the guard region, in code without
// stack-clash probing, moves the stack pointer past the guard before it
// faults somewhere further down.
constexpr uintptr_t kStepOverReach = uintptr_t{16} << 20;

// The handlers that were installed before ours; written once, before our
// handler can run.
struct sigaction previous_segv_action;
struct sigaction previous_bus_action;

const char* interrupted_stack_pointer(const void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const char*>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return nullptr;
#endif
}

// A fault outside every guard, below the running fiber's stack, with its
// stack pointer below the stack too: a frame stepped over the guard.
bool stepped_over_guard(const FiberStack& running, const siginfo_t* info, const void* context) {
  if (running.stack_low == nullptr) return false;
  const char* fault = static_cast<const char*>(info->si_addr);
  const char* sp = interrupted_stack_pointer(context);
  const auto low = reinterpret_cast<uintptr_t>(running.stack_low);
  const auto sp_value = reinterpret_cast<uintptr_t>(sp);
  return sp != nullptr && fault < running.stack_low && sp_value < low &&
         low - sp_value <= kStepOverReach;
}

// Fills `report` if the fault is a stack overflow.
bool is_overflow(const siginfo_t* info, const void* context, FiberStack& running,
                 OverflowReport& report) {
  const bool has_running = describe_running_fiber(running);
  GuardHit hit;
  if (find_guard(info->si_addr, hit)) {
    report.stack_size = static_cast<size_t>(hit.stack_high - hit.stack_low);
    const void* owner = nullptr;
    report.owner_state = stack_owner(hit.stack_high, owner);
    if (report.owner_state == StackOwnerState::kOwned &&
        !describe_fiber_stack(owner, hit.stack_low, report.owner)) {
      report.owner_state = StackOwnerState::kOverwritten;
    }
    const bool owner_runs =
        report.owner_state == StackOwnerState::kOwned && has_running && running.fiber == owner;
    if (has_running && !owner_runs) report.running = &running;
    return true;
  }
  if (has_running && stepped_over_guard(running, info, context)) {
    report.owner = running;
    report.stack_size = static_cast<size_t>(running.stack_high - running.stack_low);
    return true;
  }
  return false;
}

// Passes a fault that is not an overflow to whoever handled it before us.
void chain(int signal_number, siginfo_t* info, void* context) {
  const struct sigaction& previous =
      signal_number == SIGBUS ? previous_bus_action : previous_segv_action;
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    if (previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(signal_number, info, context);
      return;
    }
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal_number);
    return;
  }
  // The default action: reinstate it and let the fault happen again when
  // this handler returns (or re-send a signal that was sent, not caused).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal_number, &default_action, nullptr);
  if (info->si_code <= 0) raise(signal_number);
}

void on_fault(int signal_number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  FiberStack running;
  OverflowReport report;
  if (is_overflow(info, context, running, report)) {
    char message[768];
    const size_t length = format_overflow_message(report, message, sizeof message);
    // The raw system call: nothing of the C library's stdio, and no
    // interposed wrapper (a sanitizer's) that might not be signal-safe.
    long ignored = syscall(SYS_write, STDERR_FILENO, message, length);
    (void)ignored;
    abort();
  }
  chain(signal_number, info, context);
  errno = saved_errno;
}

// Appends text to a bounded buffer. Hand-written because snprintf is not
// async-signal-safe.
class MessageWriter {
 public:
  MessageWriter(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {}
  void text(const char* text, size_t length) {
    length = std::min(length, capacity_ - size_);
    std::memcpy(buffer_ + size_, text, length);
    size_ += length;
  }
  void text(const char* text) { this->text(text, std::strlen(text)); }
  void number(uintmax_t value, unsigned base) {
    char digits[32];
    size_t count = 0;
    do {
      digits[count++] = "0123456789abcdef"[value % base];
      value /= base;
    } while (value != 0);
    while (count > 0) text(&digits[--count], 1);
  }
  size_t size() const { return size_; }

 private:
  char* buffer_;
  size_t capacity_;
  size_t size_ = 0;
};

void name_fiber(MessageWriter& out, const FiberStack& fiber) {
  out.text("'");
  if (fiber.name_length > 0) {
    out.text(fiber.name, std::min<size_t>(fiber.name_length, 200));
  } else if (fiber.name_number != 0) {
    char name[kNumberedNameCapacity];
    out.text(name, format_numbered_name(fiber.name_number, name));
  } else {
    out.text("<unnamed 0x");
    out.number(reinterpret_cast<uintptr_t>(fiber.fiber), 16);
    out.text(">");
  }
  out.text("'");
}

}  // namespace

size_t format_overflow_message(const OverflowReport& report, char* buffer,
                               size_t capacity) noexcept {
  MessageWriter out(buffer, capacity);
  switch (report.owner_state) {
    case StackOwnerState::kOwned:
      out.text("evergreen: stack overflow in fiber ");
      name_fiber(out, report.owner);
      break;
    case StackOwnerState::kUnused:
      out.text("evergreen: stack overflow into the guard of an unused fiber stack");
      break;
    case StackOwnerState::kOverwritten:
      out.text(
          "evergreen: stack overflow in fiber <unknown: the stack's owner record was "
          "overwritten>");
      break;
  }
  out.text(" (stack size ");
  out.number(static_cast<uintmax_t>(report.stack_size), 10);
  out.text(" bytes)");
  if (report.running != nullptr) {
    out.text(report.owner_state == StackOwnerState::kOwned
                 ? ": its guard region was hit while fiber "
                 : ": hit while fiber ");
    name_fiber(out, *report.running);
    out.text(" was running");
  }
  out.text("\n");
  return out.size();
}

AltSignalStack::AltSignalStack() {
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) return;
  // Our own stack, with a guard page below it: an overflow inside a signal
  // handler must not silently corrupt memory either.
  const size_t page = page_size();
  const size_t length = kAltStackSize + page;
  void* mapped = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapped == MAP_FAILED) return;  // overflows still fault, just without the message
  mprotect(mapped, page, PROT_NONE);
  stack_t ours{};
  ours.ss_sp = static_cast<char*>(mapped) + page;
  ours.ss_size = kAltStackSize;
  if (sigaltstack(&ours, nullptr) != 0) {
    munmap(mapped, length);
    return;
  }
  memory_ = mapped;
  length_ = length;
}

AltSignalStack::~AltSignalStack() {
  if (memory_ == nullptr) return;
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 &&
      current.ss_sp == static_cast<char*>(memory_) + page_size()) {
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
  }
  munmap(memory_, length_);
}

void install_overflow_handler() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv_action);
    sigaction(SIGBUS, &action, &previous_bus_action);
    return true;
  }();
  (void)installed;
}

}  // namespace evergreen::fiber_internal
