#include "tests/fiber/large_frames.h"

namespace evergreen::testing {
namespace {

// Fills buffer[0, count) from its lowest address up, then makes the buffer
// escape so that the stores cannot be removed. Volatile stores: no memset
// call and no call at all: the first store is the first touch of the frame.
__attribute__((always_inline)) inline void fill_low_end(char* buffer, size_t count) {
  volatile char* bytes = buffer;
  for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<char>(0x5a);
}

}  // namespace

__attribute__((noinline)) const char* stack_position() {
  char marker = 0;
  const char* address = &marker;
  asm volatile("" : "+r"(address));  // the address escapes; the frame is real
  return address;
}

__attribute__((noinline)) void descend_to(const char* stack_low, size_t above, void (*then)()) {
  char frame[128];
  frame[0] = 1;
  if (static_cast<size_t>(stack_position() - stack_low) <= above) {
    then();
  } else {
    descend_to(stack_low, above, then);
  }
  // Uses the frame after the call: no tail call, every level keeps its frame.
  asm volatile("" : : "r"(frame) : "memory");
}

__attribute__((noinline)) void write_low_end_of_8_kib_buffer() {
  char buffer[8 * 1024];
  fill_low_end(buffer, 256);
  asm volatile("" : : "r"(buffer) : "memory");
}

__attribute__((noinline)) void write_low_4_kib_of_80_kib_buffer() {
  char buffer[80 * 1024];
  fill_low_end(buffer, 4 * 1024);
  asm volatile("" : : "r"(buffer) : "memory");
}

}  // namespace evergreen::testing
