// A consumer of an installed evergreen's patch component: after patch(), two
// tasks each make a blocking one-second sleep() - one in this program, one
// inside a shared library dlopen()ed at run time (libblocking_sleep.so, beside
// the executable) - and they overlap: about 1 s in all, not 2 s. That needs the
// interposers linked in (whole archive) and exported from the executable
// (--export-dynamic-symbol: the linker exports a symbol by itself only for the
// shared libraries on the link line, not for one loaded later). Prints one
// success line and exits 0, or says what failed and exits 1.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "patch consumer";
  char exe[4096] = {};
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) <= 0) {
    std::printf("%s: FAILED: readlink(/proc/self/exe)\n", name);
    return 1;
  }
  std::string library = exe;
  library = library.substr(0, library.rfind('/') + 1) + "libblocking_sleep.so";
  void* handle = dlopen(library.c_str(), RTLD_NOW);
  auto blocking_sleep =
      handle ? reinterpret_cast<unsigned int (*)(unsigned int)>(dlsym(handle, "blocking_sleep"))
             : nullptr;
  if (blocking_sleep == nullptr) {
    std::printf("%s: FAILED: cannot load %s: %s\n", name, library.c_str(), dlerror());
    return 1;
  }
  try {
    evergreen::patch::patch();  // throws if the interposers are not what calls reach
  } catch (const std::exception& error) {
    std::printf("%s: FAILED: patch() threw: %s\n", name, error.what());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  unsigned int left_here = 99, left_in_library = 99;
  auto here = evergreen::spawn([&] { left_here = ::sleep(1); });
  auto in_library = evergreen::spawn([&] { left_in_library = blocking_sleep(1); });
  here->join();
  in_library->join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (left_here != 0 || left_in_library != 0 || seconds < 0.9 || seconds > 1.6) {
    std::printf("%s: FAILED: two 1 s sleep() calls in tasks took %.2f s (returned %u, %u); "
                "patched, they overlap (about 1 s)\n",
                name, seconds, left_here, left_in_library);
    return 1;
  }
  std::printf("%s: OK (two blocking 1 s sleep() calls in tasks, one inside a shared library, "
              "overlapped: %.2f s)\n", name, seconds);
  return 0;
}
