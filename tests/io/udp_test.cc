// UDP datagrams with their source addresses: the seed's ping-pong, errors
// after close(), and close() waking a blocked receive().
#include "evergreen/io/udp.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using UdpTest = evergreen::testing::IoTest;

TEST_F(UdpTest, PingPong) {
  UDPEndpoint server;
  server.bind({"127.0.0.1", 0});
  Address server_address = server.sockname();
  auto echo = spawn([&] {
    try {
      for (;;) {
        auto [data, from] = server.receive();
        server.send(data, from);
      }
    } catch (const UDPError&) {
      // closed
    }
  });
  bounded([&] {
    UDPEndpoint client;
    EXPECT_TRUE(client.send("PING", server_address));
    auto [data, from] = client.receive();
    EXPECT_EQ(data, "PING");
    EXPECT_EQ(from, server_address);
    EXPECT_NE(client.sockname().port, 0);  // sending bound it to an ephemeral port
    client.close();
    EXPECT_THROW(client.receive(), UDPError);
    server.close();
    echo->join();
  });
}

TEST_F(UdpTest, DatagramsKeepTheirBoundaries) {
  UDPEndpoint a;
  UDPEndpoint b;
  a.bind({"127.0.0.1", 0});
  b.bind({"127.0.0.1", 0});
  bounded([&] {
    std::string big(60000, 'u');
    a.send("one", b.sockname());
    a.send("", b.sockname());
    a.send(big, b.sockname());
    a.flush();
    EXPECT_EQ(b.receive().first, "one");
    EXPECT_EQ(b.receive().first, "");
    auto [data, from] = b.receive();
    EXPECT_EQ(data, big);
    EXPECT_EQ(from, a.sockname());
  });
}

TEST_F(UdpTest, Ipv6Loopback) {
  UDPEndpoint a;
  try {
    a.bind({"::1", 0});
  } catch (const UDPError& error) {
    GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
  }
  UDPEndpoint b;
  bounded([&] {
    b.send("six", a.sockname());
    auto [data, from] = a.receive();
    EXPECT_EQ(data, "six");
    EXPECT_EQ(from.host, "::1");
    EXPECT_EQ(from.to_string(), "[::1]:" + std::to_string(from.port));
  });
}

TEST_F(UdpTest, CloseWakesABlockedReceive) {
  UDPEndpoint endpoint;
  endpoint.bind({"127.0.0.1", 0});
  bool woke_with_error = false;
  auto receiver = spawn([&] {
    try {
      endpoint.receive();
    } catch (const UDPError& error) {
      woke_with_error = error.code().value() == EBADF;
    }
  });
  bounded([&] {
    sleep(5ms);
    endpoint.close();
    receiver->join();
  });
  EXPECT_TRUE(woke_with_error);
}

TEST_F(UdpTest, EveryOperationFailsAfterClose) {
  UDPEndpoint endpoint;
  endpoint.bind({"127.0.0.1", 0});
  endpoint.close();
  EXPECT_TRUE(endpoint.closed());
  EXPECT_THROW(endpoint.bind({"127.0.0.1", 0}), UDPError);
  EXPECT_THROW(endpoint.send("x", {"127.0.0.1", 9}), UDPError);
  EXPECT_THROW(endpoint.receive(), UDPError);
  EXPECT_THROW(endpoint.flush(), UDPError);
  EXPECT_THROW(endpoint.sockname(), UDPError);
}

TEST_F(UdpTest, Errors) {
  UDPEndpoint first;
  first.bind({"127.0.0.1", 0});
  UDPEndpoint second;
  try {
    second.bind(first.sockname());
    ADD_FAILURE() << "expected EADDRINUSE";
  } catch (const UDPError& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE);
  }
  UDPEndpoint third;
  EXPECT_THROW(third.receive(), UDPError);  // neither bound nor used
  try {
    third.send("x", {"300.0.0.1", 9});
    ADD_FAILURE() << "expected EINVAL";
  } catch (const UDPError& error) {
    EXPECT_EQ(error.code().value(), EINVAL);
    EXPECT_NE(std::string(error.what()).find("300.0.0.1"), std::string::npos) << error.what();
  }
  EXPECT_THROW(third.send(std::string(70000, 'x'), first.sockname()), UDPError);
}

// The protocol's own limits: 65,507 bytes over IPv4, 65,527 over IPv6 (its
// header is not part of its payload length). Each arrives whole.
TEST_F(UdpTest, TheLargestDatagramOfEachFamilyArrivesWhole) {
  struct Family {
    const char* loopback;
    size_t limit;
  };
  for (Family family : {Family{"127.0.0.1", UDPEndpoint::kMaxIPv4Datagram},
                        Family{"::1", UDPEndpoint::kMaxIPv6Datagram}}) {
    SCOPED_TRACE(family.loopback);
    UDPEndpoint receiver;
    try {
      receiver.bind({family.loopback, 0});
    } catch (const UDPError& error) {
      if (std::string(family.loopback) == "::1")
        GTEST_SKIP() << "no IPv6 loopback: " << error.what();
      throw;
    }
    UDPEndpoint sender;
    bounded([&] {
      std::string largest(family.limit, 'L');
      sender.send(largest, receiver.sockname());
      sender.flush();
      EXPECT_EQ(receiver.receive().first.size(), family.limit);
      try {
        sender.send(std::string(family.limit + 1, 'X'), receiver.sockname());
        ADD_FAILURE() << "a datagram over the limit was accepted";
      } catch (const UDPError& error) {
        EXPECT_EQ(error.code().value(), EMSGSIZE);
        EXPECT_NE(std::string(error.what()).find(std::to_string(family.limit + 1) + "-byte"),
                  std::string::npos)
            << error.what();
      }
    });
  }
}

TEST_F(UdpTest, ADatagramLargerThanTheReceiveBufferIsAnErrorNotTruncated) {
  UDPEndpoint receiver;
  receiver.bind({"127.0.0.1", 0});
  receiver.set_receive_buffer_size(100);
  UDPEndpoint sender;
  bounded([&] {
    sender.send(std::string(200, 'b'), receiver.sockname());
    sender.send("next", receiver.sockname());
    sender.flush();
    try {
      auto [data, from] = receiver.receive();
      ADD_FAILURE() << "received " << data.size() << " bytes of a 200-byte datagram";
    } catch (const UDPError& error) {
      EXPECT_EQ(error.code().value(), EMSGSIZE);
      std::string what = error.what();
      EXPECT_NE(what.find("200-byte"), std::string::npos) << what;
      EXPECT_NE(what.find("100 bytes"), std::string::npos) << what;
    }
    EXPECT_EQ(receiver.receive().first, "next");  // the endpoint goes on working
    EXPECT_FALSE(receiver.closed());
  });
}

TEST_F(UdpTest, ReceiveBufferSizeOutsideTheProtocolLimitIsRejected) {
  UDPEndpoint endpoint;
  EXPECT_EQ(endpoint.receive_buffer_size(), UDPEndpoint::kMaxIPv6Datagram);
  EXPECT_THROW(endpoint.set_receive_buffer_size(0), std::invalid_argument);
  EXPECT_THROW(endpoint.set_receive_buffer_size(UDPEndpoint::kMaxIPv6Datagram + 1),
               std::invalid_argument);
  endpoint.set_receive_buffer_size(512);
  EXPECT_EQ(endpoint.receive_buffer_size(), 512u);
}

TEST_F(UdpTest, ReceiveHonoursTimeout) {
  UDPEndpoint endpoint;
  endpoint.bind({"127.0.0.1", 0});
  bool timed_out = false;
  bounded([&] {
    try {
      Timeout deadline(20ms);
      endpoint.receive();
    } catch (const Timeout&) {
      timed_out = true;
    }
  });
  EXPECT_TRUE(timed_out);
}

}  // namespace
}  // namespace evergreen::io
