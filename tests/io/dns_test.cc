// Cooperative DNS against a small fake DNS server on 127.0.0.1 (a UDPEndpoint
// in a task): a name that resolves, one that does not exist, a server that
// never answers, and names that never reach DNS (/etc/hosts, literals).
#include "evergreen/io/dns.h"

#include <ares.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "evergreen/io/internal/resolver_defaults.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using DnsTest = evergreen::testing::IoTest;

constexpr char kKnownName[] = "known.evergreen.test";
constexpr uint8_t kKnownAddress[4] = {10, 1, 2, 3};

void put16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

// The question's name in dotted lower case, and where the question ends.
std::string question_name(const std::string& query, size_t* end) {
  std::string name;
  size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    size_t length = static_cast<uint8_t>(query[at]);
    if (!name.empty()) name += '.';
    for (size_t i = 1; i <= length && at + i < query.size(); ++i) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(query[at + i])));
    }
    at += length + 1;
  }
  *end = at + 1 + 4;  // the root label, QTYPE and QCLASS
  return name;
}

// Answers A queries for kKnownName, says "no data" for its other types and
// NXDOMAIN for every other name; or, when `silent`, never answers.
struct FakeDns {
  explicit FakeDns(bool silent) {
    endpoint.bind({"127.0.0.1", 0});
    server = spawn([this, silent] {
      try {
        for (;;) {
          auto [query, from] = endpoint.receive();
          ++queries;
          if (silent || query.size() < 12) continue;
          endpoint.send(answer(query), from);
        }
      } catch (const UDPError&) {
      }
    });
  }
  ~FakeDns() { endpoint.close(); }

  std::string servers() const { return endpoint.sockname().to_string(); }

  std::string answer(const std::string& query) {
    size_t end = 0;
    std::string name = question_name(query, &end);
    if (end > query.size()) end = query.size();
    uint16_t qtype = static_cast<uint16_t>((static_cast<uint8_t>(query[end - 4]) << 8) |
                                           static_cast<uint8_t>(query[end - 3]));
    bool known = name == kKnownName;
    bool with_record = known && qtype == 1;  // A
    uint16_t rcode = known ? 0 : 3;          // NOERROR / NXDOMAIN
    std::string reply = query.substr(0, 2);  // the ID
    uint16_t recursion_desired = static_cast<uint8_t>(query[2]) & 0x01 ? 0x0100 : 0;
    put16(reply, 0x8000 | 0x0400 | recursion_desired | 0x0080 | rcode);
    put16(reply, 1);                    // one question
    put16(reply, with_record ? 1 : 0);  // answers
    put16(reply, 0);
    put16(reply, 0);
    reply += query.substr(12, end - 12);  // the question, as asked
    if (with_record) {
      put16(reply, 0xC00C);  // the name: a pointer to the question's
      put16(reply, 1);       // A
      put16(reply, 1);       // IN
      put16(reply, 0);
      put16(reply, 60);  // TTL
      put16(reply, 4);
      reply.append(reinterpret_cast<const char*>(kKnownAddress), 4);
    }
    return reply;
  }

  UDPEndpoint endpoint;
  std::shared_ptr<Task> server;
  int queries = 0;
};

TEST_F(DnsTest, ResolvesANameThroughTheServer) {
  FakeDns dns(/*silent=*/false);
  set_dns_servers(dns.servers());
  bounded([&] {
    std::vector<Address> found = getaddrinfo(kKnownName, 8080);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], (Address{"10.1.2.3", 8080}));
  });
  EXPECT_GE(dns.queries, 1);
}

TEST_F(DnsTest, ANameThatDoesNotExistIsAClearError) {
  FakeDns dns(/*silent=*/false);
  set_dns_servers(dns.servers());
  bounded([&] {
    try {
      getaddrinfo("missing.evergreen.test", 80);
      ADD_FAILURE() << "expected a DNSError";
    } catch (const DNSError& error) {
      EXPECT_EQ(error.code().category(), dns_category());
      EXPECT_EQ(error.code().value(), ARES_ENOTFOUND);
      EXPECT_TRUE(error.not_found());
      EXPECT_FALSE(error.timed_out());
      std::string what = error.what();
      EXPECT_NE(what.find("missing.evergreen.test"), std::string::npos) << what;
    }
  });
}

// Without the c-ares headers: a user tells the failures apart by asking.
TEST_F(DnsTest, DNSErrorTellsNotFoundFromTimedOut) {
  FakeDns dns(/*silent=*/false);
  set_dns_servers(dns.servers());
  bounded([&] {
    try {
      getaddrinfo("nowhere.evergreen.test", 443);
      ADD_FAILURE() << "expected a DNSError";
    } catch (const DNSError& error) {
      EXPECT_TRUE(error.not_found()) << error.what();
      EXPECT_FALSE(error.timed_out()) << error.what();
    }
  });
  FakeDns silent(/*silent=*/true);
  set_dns_servers(silent.servers());
  set_dns_timeout(50ms, 1);
  bounded([&] {
    try {
      getaddrinfo("nowhere.evergreen.test", 443);
      ADD_FAILURE() << "expected a DNSError";
    } catch (const std::system_error& caught) {  // existing catch sites still catch it
      const auto* error = dynamic_cast<const DNSError*>(&caught);
      ASSERT_NE(error, nullptr) << caught.what();
      EXPECT_TRUE(error->timed_out()) << caught.what();
      EXPECT_FALSE(error->not_found()) << caught.what();
    }
  });
  // An error of another category is neither.
  DNSError other(std::error_code(ENOMEM, std::generic_category()), "evergreen: test");
  EXPECT_FALSE(other.not_found());
  EXPECT_FALSE(other.timed_out());
}

TEST_F(DnsTest, ConnectingToANameThatDoesNotExistIsATcpError) {
  FakeDns dns(/*silent=*/false);
  set_dns_servers(dns.servers());
  bounded([&] {
    TCPClient client;
    try {
      client.connect({"missing.evergreen.test", 80});
      ADD_FAILURE() << "expected a TCPError";
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code(), std::error_code(ARES_ENOTFOUND, dns_category()));
      std::string what = error.what();
      EXPECT_NE(what.find("missing.evergreen.test"), std::string::npos) << what;
    }
  });
}

TEST_F(DnsTest, AServerThatNeverAnswersTimesOut) {
  FakeDns dns(/*silent=*/true);
  set_dns_servers(dns.servers());
  set_dns_timeout(100ms, 2);
  auto started = std::chrono::steady_clock::now();
  bounded([&] {
    try {
      getaddrinfo("slow.evergreen.test", 80);
      ADD_FAILURE() << "expected a timeout";
    } catch (const DNSError& error) {
      EXPECT_EQ(error.code().value(), ARES_ETIMEOUT) << error.what();
      EXPECT_TRUE(error.timed_out());
      EXPECT_FALSE(error.not_found());
    }
  });
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 5s);
  EXPECT_GE(dns.queries, 2);
}

// With no timeout given and none in the system's configuration, a silent
// server fails a lookup after evergreen's default (2 s, then 4 s), not after
// c-ares' 75 s. Bounded at 30 s: far above 6 s on any machine, far below 75.
TEST_F(DnsTest, ASilentServerFailsALookupWithinTheServerDefault) {
  if (internal::system_sets_resolver_option("timeout") ||
      internal::system_sets_resolver_option("attempts")) {
    GTEST_SKIP() << "this system's resolv.conf or RES_OPTIONS sets the timeout itself";
  }
  FakeDns dns(/*silent=*/true);
  ResolverOptions options;
  options.servers = dns.servers();
  Resolver resolver(options);
  bounded(
      [&] {
        try {
          resolver.resolve("slow.evergreen.test", 80);
          ADD_FAILURE() << "expected a timeout";
        } catch (const DNSError& error) {
          EXPECT_EQ(error.code().value(), ARES_ETIMEOUT) << error.what();
        }
      },
      30s);
  // One query per round for each of A and AAAA: both rounds ran.
  EXPECT_GE(dns.queries, 2 * kDefaultDnsTries);
}

TEST(ResolverDefaultsTest, OptionsNamedByTheSystemAreFound) {
  using internal::names_resolver_option;
  EXPECT_FALSE(names_resolver_option("nameserver 10.0.0.1\n", "", "timeout"));
  EXPECT_TRUE(names_resolver_option("nameserver 10.0.0.1\noptions timeout:1\n", "", "timeout"));
  EXPECT_TRUE(names_resolver_option("options\tndots:2 attempts:3", "", "attempts"));
  EXPECT_FALSE(names_resolver_option("options attempts:3", "", "timeout"));
  EXPECT_FALSE(names_resolver_option("# options timeout:1\n; options timeout:1", "", "timeout"));
  EXPECT_FALSE(names_resolver_option("options timeouts:1", "", "timeout"));
  EXPECT_FALSE(names_resolver_option("optionstimeout:1", "", "timeout"));
  EXPECT_TRUE(names_resolver_option("options rotate # timeout:1\noptions timeout:2\r\n", "",
                                    "timeout"));
  EXPECT_TRUE(names_resolver_option("", "ndots:1 timeout:3", "timeout"));
  EXPECT_FALSE(names_resolver_option("", "ndots:1", "timeout"));
}

TEST_F(DnsTest, ALookupHonoursTimeoutAndOthersCarryOn) {
  FakeDns silent(/*silent=*/true);
  set_dns_servers(silent.servers());
  bool timed_out = false;
  int ticks = 0;
  auto ticker = spawn([&] {
    for (int i = 0; i < 5; ++i) {
      sleep(5ms);
      ++ticks;
    }
  });
  bounded([&] {
    try {
      Timeout deadline(60ms);
      getaddrinfo("slow.evergreen.test", 80);
    } catch (const Timeout&) {
      timed_out = true;
    }
    ticker->join();
  });
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(ticks, 5) << "the loop ran other tasks while the lookup waited";
}

TEST_F(DnsTest, NamesFromEtcHostsNeedNoServer) {
  FakeDns dns(/*silent=*/true);
  set_dns_servers(dns.servers());
  bounded([&] {
    std::vector<Address> found = getaddrinfo("localhost", 22);
    ASSERT_FALSE(found.empty());
    bool loopback = std::any_of(found.begin(), found.end(), [](const Address& address) {
      return address.host == "127.0.0.1" || address.host == "::1";
    });
    EXPECT_TRUE(loopback);
  });
  EXPECT_EQ(dns.queries, 0);
}

TEST_F(DnsTest, PortZeroResolves) {
  FakeDns dns(/*silent=*/true);
  set_dns_servers(dns.servers());
  bounded([&] {
    std::vector<Address> found = getaddrinfo("localhost", 0);
    ASSERT_FALSE(found.empty());
    for (const Address& address : found) EXPECT_EQ(address.port, 0);
  });
}

TEST_F(DnsTest, LiteralsNeedNoLookup) {
  bounded([&] {
    EXPECT_EQ(getaddrinfo("192.0.2.1", 53), (std::vector<Address>{{"192.0.2.1", 53}}));
    EXPECT_EQ(getaddrinfo("[2001:db8::1]", 53), (std::vector<Address>{{"2001:db8::1", 53}}));
  });
}

TEST_F(DnsTest, BadNamesAndServerListsAreRejected) {
  EXPECT_THROW(getaddrinfo("", 80), DNSError);
  EXPECT_THROW(set_dns_servers("not a server list"), std::invalid_argument);
  EXPECT_THROW(set_dns_timeout(0ms, 1), std::invalid_argument);
}

TEST_F(DnsTest, ManyConcurrentLookupsShareTheResolver) {
  FakeDns dns(/*silent=*/false);
  set_dns_servers(dns.servers());
  int resolved = 0;
  std::vector<std::shared_ptr<Task>> lookups;
  for (int i = 0; i < 20; ++i) {
    lookups.push_back(spawn([&] {
      if (getaddrinfo(kKnownName, 1).at(0).host == "10.1.2.3") ++resolved;
    }));
  }
  bounded([&] {
    for (auto& lookup : lookups) lookup->join();
  });
  EXPECT_EQ(resolved, 20);
}

}  // namespace
}  // namespace evergreen::io
