// The interposed resolver calls (see interpose_socket.cc for how
// interposition works). Pass-throughs until patch() switches the dns module
// on. freeaddrinfo() needs no interposing: the results are libc's.
#include <netdb.h>

#include "evergreen/patch/internal/modules.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

namespace {

namespace original = evergreen::patch::original;
namespace cooperative = evergreen::lib::dns;

bool on() { return evergreen::patch_internal::patched(evergreen::patch_internal::Module::kDns); }

}  // namespace

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  return on() ? cooperative::getaddrinfo(node, service, hints, result)
              : original::getaddrinfo(node, service, hints, result);
}

hostent* gethostbyname(const char* name) {
  return on() ? cooperative::gethostbyname(name) : original::gethostbyname(name);
}

}  // extern "C"
