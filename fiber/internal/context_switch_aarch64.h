// AArch64 (AAPCS64) context switch. See context_switch.h for the interface.
//
// Same design as x86-64: sp, the frame pointer (x29) and a resume address are
// stored; every other register is declared clobbered so the compiler saves
// only what it uses. (x18 is an ordinary temporary on Linux; where it is the
// reserved platform register no code may change it, so it is left out.) x30 is zeroed before the
// jump so a freshly started fiber sees a null return address (backtraces end
// there). The jump uses x17, which branch-target identification accepts both
// at the resume label (bti j) and at a function entry (bti c).
#ifndef EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_AARCH64_H_
#define EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_AARCH64_H_

#if defined(__linux__) && !defined(__ANDROID__)
#define EVERGREEN_FIBER_X18_CLOBBER "x18",
#else
#define EVERGREEN_FIBER_X18_CLOBBER
#endif

namespace evergreen::fiber_internal {

struct MachineContext {
  void* sp = nullptr;  // offset 0
  void* pc = nullptr;  // offset 8
  void* fp = nullptr;  // offset 16
};

__attribute__((always_inline)) inline void switch_context(MachineContext& from,
                                                          const MachineContext& to) {
  register MachineContext* save asm("x0") = &from;
  register const MachineContext* load asm("x1") = &to;
  asm volatile(
      "adr x9, 1f\n\t"
      "mov x10, sp\n\t"
      "stp x10, x9, [%[save]]\n\t"
      "str x29, [%[save], #16]\n\t"
      "ldp x10, x17, [%[load]]\n\t"
      "ldr x29, [%[load], #16]\n\t"
      "mov sp, x10\n\t"
      "mov x30, xzr\n\t"
      "br x17\n\t"
      "1:\n\t"
      "hint #36\n\t"  // bti j: a no-op unless branch-target identification is on
      : [save] "+r"(save), [load] "+r"(load)
      :
      : "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
        "x16", "x17", EVERGREEN_FIBER_X18_CLOBBER "x19", "x20", "x21", "x22", "x23", "x24", "x25",
        "x26", "x27", "x28", "x30", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
        "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22",
        "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory");
}

// The first switch into `context` enters `entry` with sp == stack_top
// (16-aligned, as AAPCS64 requires at a call) and null fp and lr.
inline void prepare_context(MachineContext& context, char* stack_top, void (*entry)()) {
  context.sp = stack_top;
  context.pc = reinterpret_cast<void*>(entry);
  context.fp = nullptr;
}

}  // namespace evergreen::fiber_internal

#undef EVERGREEN_FIBER_X18_CLOBBER

#endif  // EVERGREEN_FIBER_INTERNAL_CONTEXT_SWITCH_AARCH64_H_
