// evergreen::lib::dns: name resolution through evergreen::io's c-ares
// resolver, for C callers.
//
// Two details keep it safe to call from C code:
// - The lookup runs in a helper task. io's resolver raises a kill or Timeout
//   delivered to whoever waits in it; here the caller waits in a
//   CooperativeWait instead, so an exception meant for the caller stays
//   pending on it (and the abandoned helper is killed).
// - The results are built by libc's own getaddrinfo from the numeric
//   addresses c-ares found, so hints, services and socket types behave
//   exactly as libc's, and freeaddrinfo() frees them.
#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "evergreen/io/dns.h"
#include "evergreen/io/errors.h"
#include "evergreen/loop/local.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/internal/cooperative_wait.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

namespace evergreen::lib::dns {
namespace {

namespace original = patch::original;
using patch_internal::CooperativeWait;
using patch_internal::Interrupt;
using patch_internal::WaitOutcome;

// What a lookup ended with: addresses, or an EAI_* code (errno for
// EAI_SYSTEM).
struct LookupResult {
  std::vector<std::string> addresses;
  int eai_error = 0;
  int system_error = 0;
};

int eai_from_ares(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_EBADNAME:
      return EAI_NONAME;
    case ARES_ETIMEOUT:
    case ARES_ESERVFAIL:
    case ARES_ECONNREFUSED:
    case ARES_EREFUSED:
      return EAI_AGAIN;
    case ARES_ENOMEM:
      return EAI_MEMORY;
    default:
      return EAI_FAIL;
  }
}

// Names only: IP literals (and anything with a ':', an IPv6 literal perhaps
// with a scope) are libc's, which converts them without any I/O.
bool needs_lookup(const char* node) {
  if (node == nullptr || *node == '\0' || std::strchr(node, ':') != nullptr) return false;
  in_addr ipv4{};
  return inet_pton(AF_INET, node, &ipv4) != 1;
}

// Shared between the caller and the helper task, which may outlive the
// caller's wait.
struct Lookup {
  std::string host;
  LookupResult result;
  bool done = false;
  CooperativeWait* waiter = nullptr;
};

LookupResult resolve_in_task(internal::BlockingContext& task, const char* host) {
  LookupResult result;
  try {
    auto lookup = std::make_shared<Lookup>();
    lookup->host = host;
    std::shared_ptr<Task> helper = spawn([lookup] {
      try {
        // Only the hosts are used; the port is libc's business below.
        for (const io::Address& address : io::getaddrinfo(lookup->host, 0)) {
          lookup->result.addresses.push_back(address.host);
        }
      } catch (const io::DNSError& error) {
        lookup->result.eai_error = eai_from_ares(error.code().value());
      } catch (const std::exception&) {
        lookup->result.eai_error = EAI_FAIL;
      }
      lookup->done = true;
      if (lookup->waiter != nullptr) lookup->waiter->notify();
    });
    CooperativeWait wait(task, Interrupt::kWhilePending);
    lookup->waiter = &wait;
    WaitOutcome outcome = wait.wait();
    lookup->waiter = nullptr;
    if (lookup->done) return std::move(lookup->result);
    helper->kill();
    result.eai_error = EAI_SYSTEM;
    result.system_error =
        outcome == WaitOutcome::kInterrupted ? patch_internal::interrupted_errno(task) : EIO;
  } catch (const std::bad_alloc&) {
    result.eai_error = EAI_MEMORY;
  } catch (const std::exception&) {
    result.eai_error = EAI_FAIL;  // e.g. the loop is being destroyed
  }
  return result;
}

// The tail of a list libc built, so that lists can be chained: libc's
// freeaddrinfo() frees node by node.
addrinfo* last_node(addrinfo* list) {
  while (list->ai_next != nullptr) list = list->ai_next;
  return list;
}

// Per task, so that tasks on one thread do not overwrite each other's result
// between the call and its use.
struct HostEntry {
  hostent entry{};
  std::string name;
  std::vector<in_addr> addresses;
  std::vector<char*> address_list;
  char* aliases[1] = {nullptr};
};

}  // namespace

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  internal::BlockingContext* task = patch_internal::current_task();
  bool numeric_only = hints != nullptr && (hints->ai_flags & AI_NUMERICHOST) != 0;
  if (task == nullptr || numeric_only || !needs_lookup(node) || result == nullptr) {
    return original::getaddrinfo(node, service, hints, result);
  }
  LookupResult found = resolve_in_task(*task, node);
  if (found.eai_error != 0) {
    if (found.eai_error == EAI_SYSTEM) errno = found.system_error;
    return found.eai_error;
  }
  addrinfo numeric{};
  if (hints != nullptr) numeric = *hints;
  numeric.ai_flags = (numeric.ai_flags | AI_NUMERICHOST) & ~AI_CANONNAME;
  addrinfo* head = nullptr;
  int last_error = EAI_NONAME;
  for (const std::string& address : found.addresses) {
    addrinfo* part = nullptr;
    int error = original::getaddrinfo(address.c_str(), service, &numeric, &part);
    if (error != 0) {
      // An address of a family the hints exclude: skip it. Anything else
      // (a bad service, say) is the caller's error, as libc would report.
      if (error != EAI_ADDRFAMILY && error != EAI_NONAME && error != EAI_FAMILY) {
        if (head != nullptr) freeaddrinfo(head);
        return error;
      }
      last_error = error;
      continue;
    }
    if (head == nullptr) {
      head = part;
    } else {
      last_node(head)->ai_next = part;
    }
  }
  if (head == nullptr) return last_error == EAI_ADDRFAMILY ? EAI_NODATA : last_error;
  if (hints != nullptr && (hints->ai_flags & AI_CANONNAME) != 0) {
    char* name = strdup(node);
    if (name == nullptr) {
      freeaddrinfo(head);
      return EAI_MEMORY;
    }
    std::free(head->ai_canonname);
    head->ai_canonname = name;
  }
  *result = head;
  return 0;
}

hostent* gethostbyname(const char* name) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr || !needs_lookup(name)) return original::gethostbyname(name);
  LookupResult found = resolve_in_task(*task, name);
  if (found.eai_error != 0) {
    h_errno = found.eai_error == EAI_NONAME  ? HOST_NOT_FOUND
              : found.eai_error == EAI_AGAIN ? TRY_AGAIN
                                             : NO_RECOVERY;
    return nullptr;
  }
  try {
    static TaskLocal<HostEntry> local_entry;
    HostEntry& host = local_entry.get();
    host.name = name;
    host.addresses.clear();
    for (const std::string& address : found.addresses) {
      in_addr ipv4{};
      if (inet_pton(AF_INET, address.c_str(), &ipv4) == 1) host.addresses.push_back(ipv4);
    }
    if (host.addresses.empty()) {
      h_errno = NO_DATA;  // the name exists, with IPv6 addresses only
      return nullptr;
    }
    host.address_list.clear();
    for (in_addr& address : host.addresses) {
      host.address_list.push_back(reinterpret_cast<char*>(&address));
    }
    host.address_list.push_back(nullptr);
    host.entry.h_name = host.name.data();
    host.entry.h_aliases = host.aliases;
    host.entry.h_addrtype = AF_INET;
    host.entry.h_length = sizeof(in_addr);
    host.entry.h_addr_list = host.address_list.data();
    return &host.entry;
  } catch (const std::bad_alloc&) {
    h_errno = NO_RECOVERY;
    return nullptr;
  }
}

}  // namespace evergreen::lib::dns
