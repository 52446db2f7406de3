// Real I/O counts as pending: the virtual clock does not jump past a reply on
// its way over loopback, whether the peer is a task of the same loop (its
// data is in the kernel before its send returns) or a plain thread that
// answers at once (the loop waits a short real grace before moving time).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

class IoPendingTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::destroy_this_threads_loop(); }
  void TearDown() override { testing::destroy_this_threads_loop(); }
  testing::WallClockWatchdog watchdog_{"IoPendingTest"};
};

class EchoOnce : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    connection->write(connection->read_until("\n"));
  }
};

TEST_F(IoPendingTest, AReplyFromATaskOfThisLoopArrivesBeforeATimeout) {
  testing::run_with_virtual_time([] {
    EchoOnce server;
    server.bind({"127.0.0.1", 0});
    auto serving = spawn([&] { server.serve(); });
    TimePoint start = EventLoop::current().time();
    for (int round = 0; round < 20; ++round) {
      io::TCPClient client;
      Timeout timeout(1s);  // would fire first if time jumped while I/O is on its way
      client.connect(server.sockname());
      client.write("ping\n");
      EXPECT_EQ(client.read_until("\n"), "ping\n");
    }
    EXPECT_EQ(EventLoop::current().time() - start, 0s);
    server.close();
    serving->join();
  });
}

// A blocking loopback echo on a real thread (no loop, real clock).
class ThreadEcho {
 public:
  ThreadEcho() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      int connection = ::accept(listener_, nullptr, nullptr);
      char buffer[64];
      ssize_t got = ::read(connection, buffer, sizeof buffer);
      if (got > 0) (void)!::write(connection, buffer, static_cast<size_t>(got));
      ::close(connection);
    });
  }
  ~ThreadEcho() {
    thread_.join();
    ::close(listener_);
  }
  io::Address address() const { return {"127.0.0.1", port_}; }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(IoPendingTest, AReplyFromAnotherThreadArrivesBeforeATimeout) {
  testing::run_with_virtual_time([] {
    ThreadEcho peer;
    TimePoint start = EventLoop::current().time();
    io::TCPClient client;
    // A timer is armed: with nothing ready the clock could jump straight to
    // it, but the connection's pending read holds it for the grace.
    Timeout timeout(1s);
    client.connect(peer.address());
    client.write("ping\n");
    EXPECT_EQ(client.read_until("\n"), "ping\n");
    EXPECT_EQ(EventLoop::current().time() - start, 0s);
  });
}

}  // namespace
}  // namespace evergreen
