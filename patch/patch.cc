#include "evergreen/patch/patch.h"

#include <dlfcn.h>

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "evergreen/patch/internal/modules.h"
#include "evergreen/patch/internal/symbols.h"

namespace evergreen::patch {
namespace {

using patch_internal::Module;

struct ModuleSymbols {
  Module module;
  std::initializer_list<const char*> names;
};

// What each module interposes (the fortified variants are reached through
// the plain ones and need no check of their own).
const ModuleSymbols kModuleSymbols[] = {
    {Module::kSocket, {"socket", "connect", "accept", "accept4",    "read",   "write",   "readv",
                       "writev", "recv",    "send",   "recvfrom",   "sendto", "recvmsg", "sendmsg",
                       "close",  "fcntl",   "ioctl",  "setsockopt", "dup",    "dup2",    "dup3"}},
    {Module::kSelect, {"select", "poll", "epoll_wait"}},
    {Module::kTime, {"sleep", "usleep", "nanosleep"}},
    {Module::kDns, {"getaddrinfo", "gethostbyname"}},
};

// A shared library calling `name` binds to the first definition in the
// global lookup order. If that is the very definition //patch forwards to,
// the interposer is not visible to shared libraries (the executable did not
// export it) and patching would silently do nothing for them. A sanitizer's
// interceptor in front is fine: it forwards to the next definition, ours.
void require_interposed(const char* name) {
  void* first = dlsym(RTLD_DEFAULT, name);
  void* next = patch_internal::find_next_symbol(name);
  if (first != nullptr && first == next) {
    throw std::runtime_error(
        std::string("evergreen::patch::patch(): the program's ") + name +
        "() is the C library's, not evergreen's: link the program against //patch "
        "(it is alwayslink, and exports its functions with -Wl,--export-dynamic-symbol); a "
        "program linked by hand needs -Wl,--whole-archive around libpatch.a and "
        "-Wl,--export-dynamic (or -rdynamic)");
  }
}

Module module_named(std::string_view name) {
  if (name == "socket") return Module::kSocket;
  if (name == "select") return Module::kSelect;
  if (name == "time") return Module::kTime;
  if (name == "dns") return Module::kDns;
  throw std::invalid_argument("evergreen::patch::is_patched(): unknown module '" +
                              std::string(name) +
                              "' (the modules are \"socket\", \"select\", \"time\", \"dns\")");
}

}  // namespace

void patch(Modules modules) {
  if (&patch_internal::interposers_linked == nullptr) {
    throw std::runtime_error(
        "evergreen::patch::patch(): this program does not link evergreen's interposed libc "
        "functions: depend on //patch (//:evergreen and //patch:cooperative leave libc alone, "
        "so that other libraries in the process never run through evergreen's shims)");
  }
  uint32_t wanted = 0;
  if (modules.socket) wanted |= static_cast<uint32_t>(Module::kSocket);
  if (modules.select) wanted |= static_cast<uint32_t>(Module::kSelect);
  if (modules.time) wanted |= static_cast<uint32_t>(Module::kTime);
  if (modules.dns) wanted |= static_cast<uint32_t>(Module::kDns);
  for (const ModuleSymbols& entry : kModuleSymbols) {
    if ((wanted & static_cast<uint32_t>(entry.module)) == 0) continue;
    for (const char* name : entry.names) require_interposed(name);
  }
  patch_internal::patched_modules.fetch_or(wanted, std::memory_order_acq_rel);
}

bool is_patched(std::string_view module) { return patch_internal::patched(module_named(module)); }

}  // namespace evergreen::patch
