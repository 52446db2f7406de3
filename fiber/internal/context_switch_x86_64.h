// x86-64 System V context switch. See context_switch.h for the interface.
//
// The switch stores rsp, rbp and a resume address into the suspended fiber's
// MachineContext, loads the target's three, and jumps. It neither pushes onto
// the stack (so it is safe inside leaf functions that use the red zone) nor
// uses call/ret (so the CPU's return-stack predictor stays balanced; the one
// indirect jump is predicted by the branch target buffer).
//
// Not supported: CET shadow stacks (each fiber would need a shadow stack of
// its own). Indirect-branch tracking is honoured with an endbr64 landing pad.
#ifndef EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_X86_64_H_
#define EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_X86_64_H_

#include <cstdint>

namespace evergreen::fiber_internal {

struct MachineContext {
  void* sp = nullptr;  // offset 0
  void* pc = nullptr;  // offset 8
  void* fp = nullptr;  // offset 16
};

#if defined(__CET__) && (__CET__ & 1)
#define EVERGREEN_FIBER_LANDING_PAD "endbr64\n\t"
#else
#define EVERGREEN_FIBER_LANDING_PAD ""
#endif

// The registers the switch may change: every general-purpose register except
// rsp and rbp (restored by hand), all vector registers, the x87/MMX stack and
// the flags. rdi and rsi carry the operands, so they are outputs instead.
#if defined(__AVX512F__)
#define EVERGREEN_FIBER_AVX512_CLOBBERS                                                         \
  , "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",   \
      "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5", \
      "k6", "k7"
#else
#define EVERGREEN_FIBER_AVX512_CLOBBERS
#endif

// Saves the running context into `from`, resumes `to`; returns when something
// switches back to `from`.
__attribute__((always_inline)) inline void switch_context(MachineContext& from,
                                                          const MachineContext& to) {
  MachineContext* save = &from;
  const MachineContext* load = &to;
  asm volatile(
      "leaq 1f(%%rip), %%rax\n\t"
      "movq %%rsp, 0(%[save])\n\t"
      "movq %%rax, 8(%[save])\n\t"
      "movq %%rbp, 16(%[save])\n\t"
      "movq 0(%[load]), %%rsp\n\t"
      "movq 16(%[load]), %%rbp\n\t"
      "jmpq *8(%[load])\n\t"
      "1:\n\t" EVERGREEN_FIBER_LANDING_PAD
      : [save] "+D"(save), [load] "+S"(load)
      :
      : "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0",
        "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
        "st(6)", "st(7)", "mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7", "cc",
        "memory" EVERGREEN_FIBER_AVX512_CLOBBERS);
}

// The first switch into `context` enters `entry` on the stack ending at
// `stack_top` (16-aligned) exactly as if `entry` had been called: rsp is 8
// below a 16-byte boundary and holds a null return address, which ends the
// backtraces of debuggers and profilers. rbp is null for the same reason.
inline void prepare_context(MachineContext& context, char* stack_top, void (*entry)()) {
  void** return_slot = reinterpret_cast<void**>(stack_top) - 1;
  *return_slot = nullptr;
  context.sp = return_slot;
  context.pc = reinterpret_cast<void*>(entry);
  context.fp = nullptr;
}

}  // namespace evergreen::fiber_internal

#undef EVERGREEN_FIBER_AVX512_CLOBBERS
#undef EVERGREEN_FIBER_LANDING_PAD

#endif  // EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_X86_64_H_
