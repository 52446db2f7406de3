// evergreen/io/dns.h
//
// Cooperative name resolution with c-ares: a lookup blocks only the calling
// task while the loop watches c-ares' sockets and timeouts; no thread ever
// blocks. /etc/hosts, /etc/resolv.conf (servers, search domains, ndots,
// timeout and attempts) and the lookup order are honoured as c-ares reads
// them.
//
//   std::vector<io::Address> found = io::getaddrinfo("example.com", 443);
//
//   io::set_dns_servers("127.0.0.1:5353");        // tests: a local DNS server
//   io::set_dns_timeout(200ms, 1);
//
// Each thread's loop has a default Resolver (Resolver::current()), used by
// getaddrinfo(), TCPClient::connect() and the bind()/send() calls that accept
// host names. It is made fresh with each new loop: settings given to one loop's
// resolver do not outlive that loop.
#ifndef EVERGREEN_IO_DNS_H_
#define EVERGREEN_IO_DNS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evergreen/io/address.h"
#include "evergreen/io/errors.h"
#include "evergreen/loop/event_loop.h"

namespace evergreen::io {

namespace internal {
class AresDriver;
}

struct ResolverOptions {
  // Name servers as "host:port,host:port" (IPv6 as "[::1]:53", port optional);
  // empty: those of /etc/resolv.conf.
  std::string servers;
  // How long to wait for one server's answer before trying the next, and how
  // many rounds over the servers (c-ares doubles the wait each round). Unset:
  // /etc/resolv.conf's "options timeout:/attempts:" (or RES_OPTIONS') when
  // the system names them, else kDefaultDnsTimeout and kDefaultDnsTries.
  std::optional<Duration> timeout;
  std::optional<int> tries;
};

// evergreen's defaults, chosen for servers: with one silent name server a
// lookup fails after about 6 s (2 s, then 4 s), where c-ares' own defaults
// (5 s, 4 rounds) keep a request waiting 75 s.
inline constexpr Duration kDefaultDnsTimeout = std::chrono::seconds(2);
inline constexpr int kDefaultDnsTries = 2;

class Resolver {
 public:
  // Resolver()
  //
  // A resolver on this thread's loop (the main thread's is created on demand).
  // Throws DNSError if c-ares cannot start, std::invalid_argument for a
  // malformed server list or a non-positive timeout or tries.
  explicit Resolver(ResolverOptions options = {});
  // Queries still waiting complete with a DNSError (ARES_EDESTRUCTION).
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolver::resolve()
  //
  // The IPv4 and IPv6 addresses of `host` (in c-ares' preferred order), each
  // with `port`. An IP literal is returned as is without a lookup. Blocks the
  // caller until the answer; honours Timeout and kill. Throws DNSError naming
  // the host: ARES_ENOTFOUND for a name that does not exist, ARES_ETIMEOUT
  // when no server answered in time, ARES_EBADNAME for an empty or malformed
  // name; std::runtime_error when the resolver's loop was destroyed.
  std::vector<Address> resolve(std::string_view host, uint16_t port);

  // Resolver::configure()
  //
  // Replaces the options (a new c-ares channel); lookups still waiting fail
  // with DNSError (ARES_EDESTRUCTION). Throws as the constructor does.
  void configure(ResolverOptions options);
  const ResolverOptions& options() const { return options_; }

  // Resolver::current()
  //
  // This thread's default resolver, bound to its current loop.
  static Resolver& current();

 private:
  ResolverOptions options_;
  std::unique_ptr<internal::AresDriver> driver_;
};

// getaddrinfo()
//
// Resolver::current().resolve(host, port): the addresses of `host`, blocking
// only the caller. Throws DNSError.
std::vector<Address> getaddrinfo(std::string_view host, uint16_t port);

// set_dns_servers() / set_dns_timeout()
//
// Reconfigure this thread's default resolver: its name servers
// ("127.0.0.1:5353,[::1]:53"; "" for /etc/resolv.conf's), and how long one
// try waits and how many rounds are made. Throw as Resolver::configure().
void set_dns_servers(std::string_view servers);
void set_dns_timeout(Duration timeout, int tries);
// Any std::chrono::duration, rounded up.
template <class Rep, class Period>
void set_dns_timeout(std::chrono::duration<Rep, Period> timeout, int tries) {
  set_dns_timeout(to_duration(timeout), tries);
}

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_DNS_H_
