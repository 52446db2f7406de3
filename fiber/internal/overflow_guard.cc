#include "evergreen/fiber/internal/overflow_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "evergreen/fiber/internal/stack_pool.h"

namespace evergreen::fiber_internal {
namespace {

constexpr size_t kAltStackSize = 64 * 1024;
// How far below its stack a fiber's stack pointer may be and still count as
// an overflow: a frame larger than the guard page moves the stack pointer
// past the guard before it faults somewhere further down.
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

bool is_overflow(const RunningStack& stack, const siginfo_t* info, const void* context) {
  const char* fault = static_cast<const char*>(info->si_addr);
  if (fault >= stack.guard_low && fault < stack.stack_low) return true;
  const char* sp = interrupted_stack_pointer(context);
  const auto low = reinterpret_cast<uintptr_t>(stack.stack_low);
  const auto sp_value = reinterpret_cast<uintptr_t>(sp);
  return sp != nullptr && fault < stack.stack_low && sp_value < low &&
         low - sp_value <= kStepOverReach;
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
  RunningStack stack;
  if (describe_running_fiber_stack(stack) && is_overflow(stack, info, context)) {
    char message[512];
    const size_t length = format_overflow_message(stack, message, sizeof message);
    ssize_t ignored = write(STDERR_FILENO, message, length);
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

}  // namespace

size_t format_overflow_message(const RunningStack& stack, char* buffer, size_t capacity) noexcept {
  MessageWriter out(buffer, capacity);
  out.text("evergreen: stack overflow in fiber '");
  if (stack.name_length > 0) {
    out.text(stack.name, std::min<size_t>(stack.name_length, 200));
  } else {
    out.text("<unnamed 0x");
    out.number(reinterpret_cast<uintptr_t>(stack.fiber), 16);
    out.text(">");
  }
  out.text("' (stack size ");
  out.number(static_cast<uintmax_t>(stack.stack_high - stack.stack_low), 10);
  out.text(" bytes)\n");
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
