// Address::to_string() and how TCPClient::connect() reads the host it is
// given: bracketed IPv6 literals and the empty host.
#include "evergreen/io/address.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "evergreen/io/internal/unique_fd.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using AddressTest = evergreen::testing::IoTest;

TEST(AddressToString, BracketsIPv6HostsOnce) {
  EXPECT_EQ((Address{"127.0.0.1", 80}).to_string(), "127.0.0.1:80");
  EXPECT_EQ((Address{"::1", 80}).to_string(), "[::1]:80");
  EXPECT_EQ((Address{"[::1]", 80}).to_string(), "[::1]:80");
  EXPECT_EQ((Address{"example.com", 443}).to_string(), "example.com:443");
}

TEST(AddressParse, ReadsHostAndPort) {
  EXPECT_EQ(Address::parse("localhost:8080"), (Address{"localhost", 8080}));
  EXPECT_EQ(Address::parse("1.2.3.4:80"), (Address{"1.2.3.4", 80}));
  EXPECT_EQ(Address::parse("[::1]:80"), (Address{"::1", 80}));
  EXPECT_EQ(Address::parse("[fe80::1%eth0]:443"), (Address{"fe80::1%eth0", 443}));
  EXPECT_EQ(Address::parse("example.com:0"), (Address{"example.com", 0}));
  EXPECT_EQ(Address::parse("127.0.0.1:65535"), (Address{"127.0.0.1", 65535}));
}

TEST(AddressParse, RoundTripsToString) {
  for (const Address& address : {Address{"127.0.0.1", 80}, Address{"::1", 9}, Address{"a.b", 1}}) {
    EXPECT_EQ(Address::parse(address.to_string()), address);
  }
}

TEST(AddressParse, RejectsMalformedTextQuotingIt) {
  for (const char* text : {"", "localhost", "1.2.3.4", "[::1]", "::1:80", "fe80::1:443", ":80",
                           "[]:80", "host:", "host:65536", "host:99999999999", "host:-1", "host:8o",
                           "host: 80", "[::1]80", "[::1:80", "[::1]:x"}) {
    try {
      Address::parse(text);
      ADD_FAILURE() << "parsed '" << text << "'";
    } catch (const std::invalid_argument& error) {
      std::string message = error.what();
      EXPECT_NE(message.find("\"" + std::string(text) + "\""), std::string::npos) << message;
    }
  }
}

// A port on [::1] that refuses connections while `holder` stays open: bound
// but not listening, so no test running beside this one can take it (a port
// picked on 127.0.0.1 and closed again could be listening on [::1] by the
// time we connect). Where the machine has no IPv6 loopback, a port that was
// free on 127.0.0.1; the connect then fails with EADDRNOTAVAIL or ENETUNREACH.
uint16_t refusing_port(internal::UniqueFd& holder) {
  holder = internal::UniqueFd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  socklen_t length = sizeof address;
  if (holder.valid() &&
      ::bind(holder.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    return ntohs(address.sin6_port);
  }
  TCPServer server;
  server.bind({"127.0.0.1", 0});
  return server.sockname().port;
}

TEST_F(AddressTest, ConnectNamesABracketedTargetWithSingleBrackets) {
  internal::UniqueFd holder;
  uint16_t port = refusing_port(holder);
  bounded([&] {
    TCPClient client;
    try {
      client.connect({"[::1]", port});
      FAIL() << "connected to a port nobody listens on";
    } catch (const TCPError& error) {
      // ECONNREFUSED where the machine has IPv6 loopback, EADDRNOTAVAIL or
      // ENETUNREACH where it has not; the name is right either way.
      std::string message = error.what();
      EXPECT_NE(message.find("[::1]:" + std::to_string(port)), std::string::npos) << message;
      EXPECT_EQ(message.find("[["), std::string::npos) << message;
    }
  });
}

TEST_F(AddressTest, ConnectAcceptsABracketedIPv6Literal) {
  TCPServer server([](std::shared_ptr<StreamConnection> connection) { connection->write("hi\n"); });
  try {
    server.bind({"::1", 0});
  } catch (const TCPError& error) {
    GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
  }
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect({"[::1]", server.sockname().port});
    EXPECT_EQ(client.read_until("\n"), "hi\n");
    EXPECT_EQ(client.peername().host, "::1");
  });
  server.close();
  EXPECT_TRUE(serving->join(5s));
}

TEST_F(AddressTest, ConnectToAnEmptyHostIsInvalidArgument) {
  bounded([&] {
    TCPClient client;
    try {
      client.connect({"", 80});
      FAIL() << "connect({\"\", 80}) did not throw";
    } catch (const std::invalid_argument& error) {
      std::string message = error.what();
      EXPECT_NE(message.find("empty"), std::string::npos) << message;
      EXPECT_NE(message.find(":80"), std::string::npos) << "names the target: " << message;
    }
  });
}

}  // namespace
}  // namespace evergreen::io
