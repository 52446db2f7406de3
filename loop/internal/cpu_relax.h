// cpu_relax(): the body of a spin-wait on a value another thread will write.
// Tells the CPU this is a spin-wait: it yields the core's resources to the
// sibling hyperthread and avoids a memory-order mis-speculation on exit.
#ifndef EVERGREEN_LOOP_INTERNAL_CPU_RELAX_H_
#define EVERGREEN_LOOP_INTERNAL_CPU_RELAX_H_

namespace evergreen::internal {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CPU_RELAX_H_
