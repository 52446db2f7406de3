/* A shared library that blocks the plain way, as libcurl or hiredis would: its
 * call to sleep() binds, at load time, to the first definition the dynamic
 * linker finds - evergreen's interposer only if the executable exports it
 * (-Wl,--export-dynamic-symbol, set by evergreen::patch / evergreen-patch.pc). */
#include <unistd.h>

unsigned int blocking_sleep(unsigned int seconds) { return sleep(seconds); }
