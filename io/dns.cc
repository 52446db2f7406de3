#include "evergreen/io/dns.h"

#include <ares.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "evergreen/io/internal/ares_driver.h"
#include "evergreen/io/internal/resolver_defaults.h"
#include "evergreen/io/internal/socket_address.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io {
namespace {

// One ares_getaddrinfo() call. The waiting task owns it; if the task leaves
// early (kill, Timeout) it hands the query over to the c-ares callback, which
// always comes (at the latest when the channel is destroyed) and frees it.
struct Query {
  evergreen::internal::WaitQueue waiters;
  bool done = false;
  bool abandoned = false;
  int status = ARES_SUCCESS;
  std::vector<Address> addresses;
};

void on_addrinfo(void* data, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* query = static_cast<Query*>(data);
  if (query->abandoned) {
    if (result != nullptr) ares_freeaddrinfo(result);
    delete query;
    return;
  }
  query->done = true;
  query->status = status;
  if (result != nullptr) {
    for (ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
      Address address = internal::to_address(node->ai_addr, node->ai_addrlen);
      if (address.host.empty()) continue;
      if (std::find(query->addresses.begin(), query->addresses.end(), address) ==
          query->addresses.end()) {
        query->addresses.push_back(std::move(address));
      }
    }
    ares_freeaddrinfo(result);
  }
  query->waiters.notify_all();
}

std::unique_ptr<internal::AresDriver> make_driver(const ResolverOptions& options) {
  ares_options ares{};
  int mask = 0;
  std::optional<Duration> timeout = options.timeout;
  if (!timeout && !internal::system_sets_resolver_option("timeout")) timeout = kDefaultDnsTimeout;
  std::optional<int> tries = options.tries;
  if (!tries && !internal::system_sets_resolver_option("attempts")) tries = kDefaultDnsTries;
  if (timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout).count();
    if (ms <= 0) {
      throw std::invalid_argument("evergreen: the DNS timeout must be positive, not " +
                                  std::to_string(ms) + " ms");
    }
    ares.timeout = static_cast<int>(std::min<long long>(ms, 1 << 30));
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (tries) {
    if (*tries <= 0) {
      throw std::invalid_argument("evergreen: the number of DNS tries must be positive, not " +
                                  std::to_string(*tries));
    }
    ares.tries = *tries;
    mask |= ARES_OPT_TRIES;
  }
  return std::make_unique<internal::AresDriver>(ares, mask, options.servers);
}

// This thread's default resolver; replaced when its loop is gone.
std::unique_ptr<Resolver>& default_resolver() {
  thread_local std::unique_ptr<Resolver> resolver;
  return resolver;
}

}  // namespace

Resolver::Resolver(ResolverOptions options)
    : options_(std::move(options)), driver_(make_driver(options_)) {}

Resolver::~Resolver() = default;

void Resolver::configure(ResolverOptions options) {
  driver_ = make_driver(options);
  options_ = std::move(options);
}

Resolver& Resolver::current() {
  std::unique_ptr<Resolver>& resolver = default_resolver();
  evergreen::internal::Scheduler* loop = &evergreen::internal::Scheduler::current();
  if (!resolver || resolver->driver_->loop() != loop) {
    // The old one belonged to a destroyed loop (its driver let go then).
    resolver.reset();
    resolver = std::make_unique<Resolver>();
  }
  return *resolver;
}

std::vector<Address> Resolver::resolve(std::string_view host, uint16_t port) {
  if (host.empty()) throw DNSError(ARES_EBADNAME, "evergreen: cannot resolve an empty host name");
  if (auto literal = internal::parse_ip_literal(host, port)) {
    return {internal::to_address(literal->get(), literal->length)};
  }
  std::string name(host);
  if (name.size() > 253 || name.find('\0') != std::string::npos) {
    throw DNSError(ARES_EBADNAME, "evergreen: cannot resolve '" + name + "'");
  }
  ares_channel channel = driver_->channel();
  evergreen::internal::Scheduler* loop = driver_->loop();
  if (channel == nullptr || loop == nullptr) {
    throw std::runtime_error("evergreen: cannot resolve '" + name +
                             "': the resolver's event loop was destroyed");
  }

  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  hints.ai_flags = ARES_AI_NUMERICSERV;
  // c-ares rejects "0" as a numeric service; no service at all gives port 0.
  std::string service = std::to_string(port);
  const char* service_or_null = port == 0 ? nullptr : service.c_str();

  auto query = std::make_unique<Query>();
  ares_getaddrinfo(channel, name.c_str(), service_or_null, &hints, &on_addrinfo, query.get());
  if (!query->done) {
    driver_->update_timer();
    // From here on only locals: the resolver may be destroyed or reconfigured
    // while we wait (the query then completes with ARES_EDESTRUCTION).
    loop->retain();
    try {
      evergreen::internal::WaitLabel label("getaddrinfo");
      while (!query->done) query->waiters.wait(nullptr);
    } catch (...) {
      loop->release();
      query->abandoned = true;
      query.release();  // now the callback's to free
      throw;
    }
    loop->release();
  }
  if (query->status != ARES_SUCCESS) {
    throw DNSError(query->status, "evergreen: cannot resolve '" + name + "'");
  }
  if (query->addresses.empty()) {
    throw DNSError(ARES_ENODATA, "evergreen: cannot resolve '" + name + "'");
  }
  return std::move(query->addresses);
}

std::vector<Address> getaddrinfo(std::string_view host, uint16_t port) {
  return Resolver::current().resolve(host, port);
}

void set_dns_servers(std::string_view servers) {
  Resolver& resolver = Resolver::current();
  ResolverOptions options = resolver.options();
  options.servers = std::string(servers);
  resolver.configure(std::move(options));
}

void set_dns_timeout(Duration timeout, int tries) {
  Resolver& resolver = Resolver::current();
  ResolverOptions options = resolver.options();
  options.timeout = timeout;
  options.tries = tries;
  resolver.configure(std::move(options));
}

}  // namespace evergreen::io
