// Patched getaddrinfo/gethostbyname: in tasks, names are resolved with c-ares
// (evergreen::io) while only the task waits; outside tasks libc resolves.
//
// The tests answer DNS themselves: a small server on a loopback UDP port
// (set_dns_servers points this loop's resolver at it) answers A queries for
// "*.test" names after a delay, so that overlapping lookups are measurable.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/dns.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::Stopwatch;

// A DNS server for the "test." domain: hostN.test has the address 10.0.0.N;
// any other name does not exist. Answers after `delay`.
class SlowDnsServer {
 public:
  explicit SlowDnsServer(Duration delay) : delay_(delay) {
    endpoint_.bind({"127.0.0.1", 0});
    serving_ = spawn([this] { serve(); });
  }
  ~SlowDnsServer() { close(); }

  std::string address() const { return endpoint_.sockname().to_string(); }
  void close() {
    endpoint_.close();
    for (auto& task : answering_) task->join();
    serving_->join();
  }
  int queries() const { return queries_; }

 private:
  void serve() {
    try {
      for (;;) {
        auto [query, from] = endpoint_.receive();
        ++queries_;
        answering_.push_back(spawn([this, query = std::move(query), from = from] {
          sleep(delay_);
          if (!endpoint_.closed()) endpoint_.send(answer(query), from);
        }));
      }
    } catch (const io::UDPError&) {
      // closed
    }
  }

  // Parses the one question of `query` and answers it.
  static std::string answer(const std::string& query) {
    size_t end = 12;
    std::string name;
    while (end < query.size() && query[end] != 0) {
      size_t length = static_cast<unsigned char>(query[end]);
      if (!name.empty()) name += '.';
      name.append(query, end + 1, length);
      end += length + 1;
    }
    end += 1 + 4;  // the root label, QTYPE, QCLASS
    uint16_t type = static_cast<uint16_t>((static_cast<unsigned char>(query[end - 4]) << 8) |
                                          static_cast<unsigned char>(query[end - 3]));
    int host = -1;
    if (name.rfind("host", 0) == 0 && name.size() > 9 &&
        name.compare(name.size() - 5, 5, ".test") == 0) {
      host = std::atoi(name.substr(4, name.size() - 9).c_str());
    }
    std::string reply = query.substr(0, end);
    reply[2] = static_cast<char>(0x81);                    // QR, RD
    reply[3] = static_cast<char>(host < 0 ? 0x83 : 0x80);  // RA; NXDOMAIN for unknown names
    bool has_answer = host >= 0 && type == 1;              // A
    const char counts[8] = {0, 1, 0, static_cast<char>(has_answer ? 1 : 0), 0, 0, 0, 0};
    reply.replace(4, 8, counts, 8);
    if (has_answer) {
      const char record[] = {static_cast<char>(0xc0), 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0,
                             static_cast<char>(host)};
      reply.append(record, sizeof record);
    }
    return reply;
  }

  Duration delay_;
  io::UDPEndpoint endpoint_;
  std::shared_ptr<Task> serving_;
  std::vector<std::shared_ptr<Task>> answering_;
  int queries_ = 0;
};

std::string first_address(const addrinfo* result) {
  char text[INET6_ADDRSTRLEN] = {};
  const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(result->ai_addr);
  inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(ipv4->sin_port));
}

class DnsTest : public PatchedTest {
 protected:
  void SetUp() override {
    PatchedTest::SetUp();
    server_ = std::make_unique<SlowDnsServer>(300ms);
    io::set_dns_servers(server_->address());
    io::set_dns_timeout(2s, 1);
  }
  void TearDown() override {
    server_->close();
    server_.reset();
    PatchedTest::TearDown();
  }

  std::unique_ptr<SlowDnsServer> server_;
};

TEST_F(DnsTest, LookupsInTasksOverlap) {
  constexpr int kLookups = 20;
  std::vector<std::string> found(kLookups);
  std::vector<std::shared_ptr<Task>> tasks;
  Stopwatch stopwatch;
  for (int i = 0; i < kLookups; ++i) {
    tasks.push_back(spawn([&found, i] {
      addrinfo hints{};
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* result = nullptr;
      std::string host = "host" + std::to_string(i + 1) + ".test";
      int error = ::getaddrinfo(host.c_str(), "80", &hints, &result);
      if (error != 0) {
        found[i] = gai_strerror(error);
        return;
      }
      found[i] = first_address(result);
      EXPECT_EQ(result->ai_socktype, SOCK_STREAM);
      ::freeaddrinfo(result);
    }));
  }
  int ticks = 0;
  tasks.push_back(spawn([&] {
    for (int i = 0; i < 5; ++i) {
      ::usleep(20'000);
      ++ticks;
    }
  }));
  for (auto& task : tasks) task->join();
  // Twenty 300 ms lookups in twenty tasks: about 300 ms; one after another
  // they would take 6 s.
  EXPECT_LT(stopwatch.seconds(), 1.0 * testing::kTimingSlack);
  EXPECT_EQ(ticks, 5);
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(found[i], "10.0.0." + std::to_string(i + 1) + ":80");
  }
}

TEST_F(DnsTest, UnknownNameIsEaiNoname) {
  int error = 0;
  spawn([&] {
    addrinfo* result = nullptr;
    error = ::getaddrinfo("missing.test", nullptr, nullptr, &result);
  })->join();
  EXPECT_EQ(error, EAI_NONAME);
}

TEST_F(DnsTest, CanonicalNameAndServiceNamesWork) {
  std::string canonical, address;
  int error = -1;
  spawn([&] {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;
    addrinfo* result = nullptr;
    error = ::getaddrinfo("host7.test", "http", &hints, &result);
    if (error != 0) return;
    canonical = result->ai_canonname;
    address = first_address(result);
    ::freeaddrinfo(result);
  })->join();
  ASSERT_EQ(error, 0) << gai_strerror(error);
  EXPECT_EQ(canonical, "host7.test");
  EXPECT_EQ(address, "10.0.0.7:80");
}

TEST_F(DnsTest, GethostbynameInATask) {
  std::string address;
  int type = 0;
  spawn([&] {
    hostent* entry = ::gethostbyname("host9.test");
    ASSERT_NE(entry, nullptr);
    type = entry->h_addrtype;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, entry->h_addr_list[0], text, sizeof text);
    address = text;
  })->join();
  EXPECT_EQ(type, AF_INET);
  EXPECT_EQ(address, "10.0.0.9");
}

TEST_F(DnsTest, NumericHostsAndCallsOutsideTasksUseLibc) {
  int error = -1;
  std::string address;
  spawn([&] {
    addrinfo* result = nullptr;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    error = ::getaddrinfo("127.0.0.1", "8080", &hints, &result);
    if (error == 0) {
      address = first_address(result);
      ::freeaddrinfo(result);
    }
  })->join();
  EXPECT_EQ(error, 0);
  EXPECT_EQ(address, "127.0.0.1:8080");
  EXPECT_EQ(server_->queries(), 0);

  // The main context is not a task: libc resolves (from /etc/hosts).
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* result = nullptr;
  ASSERT_EQ(::getaddrinfo("localhost", "80", &hints, &result), 0);
  EXPECT_EQ(first_address(result), "127.0.0.1:80");
  ::freeaddrinfo(result);
  EXPECT_EQ(server_->queries(), 0);
}

TEST_F(DnsTest, KillDuringALookupFailsItWithEcanceled) {
  int error = 0, system_error = 0;
  bool after = false;
  auto victim = spawn([&] {
    addrinfo* result = nullptr;
    error = ::getaddrinfo("host3.test", nullptr, nullptr, &result);
    system_error = errno;
    sleep(10s);
    after = true;
  });
  sleep(20ms);
  victim->kill();
  victim->join();
  EXPECT_EQ(error, EAI_SYSTEM);
  EXPECT_EQ(system_error, ECANCELED);
  EXPECT_FALSE(after);
}

}  // namespace
}  // namespace evergreen
