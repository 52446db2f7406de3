// The call stack of a suspended fiber, for diagnostics (debug.h).
//
// The walk follows the frame-pointer chain from the fiber's saved context
// (the build keeps frame pointers: -fno-omit-frame-pointer). Every frame
// address is checked against the fiber's own stack before it is read, and
// must grow towards the stack's top, so a corrupt chain ends the walk instead
// of faulting or looping. Nothing is recorded ahead of time: a fiber nobody
// asks about costs nothing.
//
// Frames are symbolised with dladdr() and demangled: function names of the
// symbols the dynamic linker can see (link with -rdynamic for those of the
// executable itself), otherwise "file+0xoffset" (the executable's or shared
// object's file name, without its directory), otherwise the address.
// There are no file:line numbers; tools/gdb gives those.
#ifndef EVERGREEN_LOOP_INTERNAL_STACK_TRACE_H_
#define EVERGREEN_LOOP_INTERNAL_STACK_TRACE_H_

#include <string>
#include <vector>

#include "evergreen/fiber/fiber.h"

namespace evergreen::internal {

// The return addresses of `fiber`'s frames, innermost first (the first is
// where it will resume), at most `max_frames`. Empty if the fiber is not
// suspended (not started, running, or ended).
std::vector<const void*> suspended_stack(const Fiber& fiber, size_t max_frames = 64);

// "function+0xoffset" for a code address (see the header comment).
// `return_address`: the address follows a call, so the call itself is what
// gets named (a call at a function's very end would otherwise name the next).
std::string symbolise(const void* address, bool return_address);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_STACK_TRACE_H_
