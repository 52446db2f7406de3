// Functions with large stack frames, compiled WITHOUT stack-clash probing
// (see BUILD.bazel), as a C library or user code built with Debian's default
// flags would be: each allocates its whole frame with one stack-pointer move
// and touches only the low end of its buffer, far below where its frame
// begins. The guard region must catch them by its size alone.
#ifndef EVERGREEN_TESTS_FIBER_LARGE_FRAMES_H_
#define EVERGREEN_TESTS_FIBER_LARGE_FRAMES_H_

#include <cstddef>

namespace evergreen::testing {

// The address of a local variable of the caller's next frame: where the
// stack pointer is, give or take a few bytes.
const char* stack_position();

// Recurses in small frames until stack_position() is at most `above` bytes
// above `stack_low`, then calls `then()`.
void descend_to(const char* stack_low, size_t above, void (*then)());

// Fills the lowest 256 bytes of an 8 KiB local buffer.
void write_low_end_of_8_kib_buffer();

// Fills the lowest 4 KiB of an 80 KiB local buffer.
void write_low_4_kib_of_80_kib_buffer();

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_FIBER_LARGE_FRAMES_H_
