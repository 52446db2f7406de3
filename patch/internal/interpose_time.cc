// The interposed sleeps and clocks (see interpose_socket.cc for how interposition
// works). Pass-throughs until patch() switches the time module on.
#include <time.h>
#include <unistd.h>

#include "evergreen/patch/internal/modules.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

namespace {

namespace original = evergreen::patch::original;
namespace cooperative = evergreen::lib::time;

bool on() { return evergreen::patch_internal::patched(evergreen::patch_internal::Module::kTime); }

}  // namespace

extern "C" {

unsigned int sleep(unsigned int seconds) {
  return on() ? cooperative::sleep(seconds) : original::sleep(seconds);
}

int usleep(useconds_t microseconds) {
  return on() ? cooperative::usleep(microseconds) : original::usleep(microseconds);
}

int nanosleep(const timespec* duration, timespec* remaining) {
  return on() ? cooperative::nanosleep(duration, remaining)
              : original::nanosleep(duration, remaining);
}

// Under testing::run_with_virtual_time() these read the loop's virtual clock
// (lib_time.cc); everywhere else they are libc's.
int clock_gettime(clockid_t clock, timespec* now) {
  return on() ? cooperative::clock_gettime(clock, now) : original::clock_gettime(clock, now);
}

time_t time(time_t* now) { return on() ? cooperative::time(now) : original::time(now); }

}  // extern "C"
