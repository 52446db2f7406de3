// Address::to_string() and how TCPClient::connect() reads the host it is
// given: bracketed IPv6 literals and the empty host.
#include "evergreen/io/address.h"

#include <chrono>
#include <stdexcept>
#include <string>

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

// A free loopback port: bound, read, and closed again.
uint16_t unused_port() {
  TCPServer server;
  server.bind({"127.0.0.1", 0});
  uint16_t port = server.sockname().port;
  server.close();
  return port;
}

TEST_F(AddressTest, ConnectNamesABracketedTargetWithSingleBrackets) {
  uint16_t port = unused_port();
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
