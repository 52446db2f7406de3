// The machine-level context switch behind evergreen::Fiber.
//
// Interface (implemented once per CPU in context_switch_<arch>.h):
//
//   struct MachineContext;   // what a suspended fiber keeps: its stack
//                            // pointer, frame pointer and resume address
//   void prepare_context(MachineContext& context, char* stack_top,
//                        void (*entry)());
//       Sets up `context` so that the first switch into it calls `entry` (which
//       must never return) on the stack that ends at `stack_top` (16-aligned).
//   void switch_context(MachineContext& from, const MachineContext& to);
//       Saves the running context into `from` and resumes `to`. Returns when
//       some other context switches back to `from`.
//
// Only the stack pointer, frame pointer and resume address are stored. Every
// other register is declared clobbered by the inline assembly, so the compiler
// saves just the callee-saved registers it actually uses, in the caller's
// frame, and knows every value may change across the switch. This is the
// "save only what the ABI forces" design; it is several times cheaper than a
// generic switch that always pushes all callee-saved registers.
//
// The floating-point control state (MXCSR, x87 control word; FPCR on aarch64)
// is deliberately NOT switched: it stays a per-thread setting shared by all
// fibers of the thread. Saving and reloading it costs about 4 ns per switch on
// x86-64 (ldmxcsr/fldcw serialize), several times the rest of the switch, and
// programs that change rounding modes do so around a computation, not across a
// suspension point. A fiber that changes it must restore it before switching.
//
// A second CPU is one new file: define MachineContext, prepare_context and
// switch_context there and add it to the dispatch below.
#ifndef EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_H_
#define EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_H_

#if defined(__x86_64__)
#include "evergreen/fiber/internal/context_switch_x86_64.h"  // IWYU pragma: export
#elif defined(__aarch64__)
#include "evergreen/fiber/internal/context_switch_aarch64.h"  // IWYU pragma: export
#else
#error "evergreen fibers support x86-64 and aarch64 only"
#endif

#endif  // EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_H_
