#include "evergreen/patch/internal/symbols.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace evergreen::patch_internal {
namespace {

// write(2) itself is interposed, so the message goes through the raw system
// call: a failed lookup must not recurse into another lookup.
void write_stderr(const char* text) {
  size_t length = std::strlen(text);
  while (length > 0) {
    long written = syscall(SYS_write, 2, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<size_t>(written);
  }
}

}  // namespace

void* find_next_symbol(const char* name) {
  int saved_errno = errno;
  void* found = dlsym(RTLD_NEXT, name);
  errno = saved_errno;
  return found;
}

void* require_next_symbol(const char* name) {
  void* found = find_next_symbol(name);
  if (found == nullptr) {
    write_stderr("evergreen: fatal: //patch cannot find the C library's ");
    write_stderr(name);
    write_stderr("() (dlsym(RTLD_NEXT) found nothing)\n");
    std::abort();
  }
  return found;
}

}  // namespace evergreen::patch_internal
