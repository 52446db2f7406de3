#include "evergreen/loop/internal/stack_trace.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "evergreen/fiber/internal/fiber_access.h"

namespace evergreen::internal {
namespace {

// A frame record as the x86-64 and AArch64 ABIs lay it out with frame
// pointers: the caller's frame pointer, then the return address.
struct FrameRecord {
  const FrameRecord* caller;
  const void* return_address;
};

std::string hex(uintptr_t value) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof text, "0x%zx", static_cast<size_t>(value));
  return text;
}

}  // namespace

std::vector<const void*> suspended_stack(const Fiber& fiber, size_t max_frames) {
  const fiber_internal::FiberAccess::SuspendedFrame saved =
      fiber_internal::FiberAccess::suspended_frame(fiber);
  std::vector<const void*> frames;
  if (saved.pc == nullptr || max_frames == 0) return frames;
  frames.push_back(saved.pc);
  const auto low = reinterpret_cast<uintptr_t>(saved.stack_low);
  const auto high = reinterpret_cast<uintptr_t>(saved.stack_high);
  auto frame = reinterpret_cast<uintptr_t>(saved.fp);
  while (frames.size() < max_frames) {
    // Inside this fiber's stack, aligned, and room for the whole record.
    if (frame < low || frame > high - sizeof(FrameRecord) || frame % alignof(FrameRecord) != 0) {
      break;
    }
    const auto* record = reinterpret_cast<const FrameRecord*>(frame);
    if (record->return_address == nullptr) break;  // the fiber's entry: see prepare_context()
    frames.push_back(record->return_address);
    const auto caller = reinterpret_cast<uintptr_t>(record->caller);
    if (caller <= frame) break;  // frames only grow towards the top; anything else is corrupt
    frame = caller;
  }
  return frames;
}

std::string symbolise(const void* address, bool return_address) {
  const auto lookup = reinterpret_cast<uintptr_t>(address) - (return_address ? 1 : 0);
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(lookup), &info) == 0) {
    return hex(reinterpret_cast<uintptr_t>(address));
  }
  if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), &std::free);
    std::string name = status == 0 && demangled ? demangled.get() : info.dli_sname;
    return name + "+" +
           hex(reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(info.dli_saddr));
  }
  // The file's name without its directory: a build's paths are long and say
  // nothing the name does not.
  std::string module = info.dli_fname != nullptr ? info.dli_fname : "?";
  module.erase(0, module.rfind('/') + 1);
  return module + "+" +
         hex(reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(info.dli_fbase));
}

}  // namespace evergreen::internal
