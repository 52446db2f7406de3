// The point of virtual time: a client that retries with exponential back-off
// (1 s, 2 s, 4 s ... 64 s) against a flaky server on a real loopback socket.
// Two minutes of back-off run in a fraction of a second, and every attempt
// happens at an exact virtual time.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

// Answers "BUSY" to its first `failures` requests and "OK" after that.
class FlakyServer : public io::TCPServer {
 public:
  explicit FlakyServer(int failures) : failures_(failures) {}
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    std::string request = connection->read_until("\n");
    if (request.empty()) return;
    connection->write(requests_++ < failures_ ? "BUSY\n" : "OK\n");
    connection->close();
  }
  int requests() const { return requests_; }

 private:
  const int failures_;
  int requests_ = 0;
};

// The code under test: connects, asks, and on failure waits 1 s, 2 s, 4 s...
// (at most 64 s) before the next attempt. Returns when each attempt began.
std::vector<TimePoint> fetch_with_backoff(const io::Address& server, int max_attempts) {
  std::vector<TimePoint> attempts;
  Duration backoff = 1s;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    attempts.push_back(EventLoop::current().time());
    io::TCPClient client;
    client.connect(server);
    client.write("HELLO\n");
    if (client.read_until("\n") == "OK\n") return attempts;
    client.close();
    sleep(backoff);
    backoff = std::min<Duration>(backoff * 2, 64s);
  }
  throw std::runtime_error("gave up");
}

TEST(VirtualTimeBackoffTest, EveryAttemptHappensAtItsExactVirtualTime) {
  testing::destroy_this_threads_loop();
  testing::WallClockWatchdog watchdog("VirtualTimeBackoffTest");
  auto wall_start = std::chrono::steady_clock::now();
  testing::run_with_virtual_time([] {
    FlakyServer server(/*failures=*/7);
    server.bind({"127.0.0.1", 0});
    auto serving = spawn([&] { server.serve(); });
    TimePoint start = EventLoop::current().time();

    std::vector<TimePoint> attempts = fetch_with_backoff(server.sockname(), 10);

    std::vector<Duration> at;
    for (TimePoint attempt : attempts) at.push_back(attempt - start);
    std::vector<Duration> expected = {0s, 1s, 3s, 7s, 15s, 31s, 63s, 127s};
    EXPECT_EQ(at, expected);
    EXPECT_EQ(server.requests(), 8);
    server.close();
    serving->join();
  });
  auto wall = std::chrono::steady_clock::now() - wall_start;
  // 127 s of virtual time; the real time is the loopback round trips plus a
  // short I/O grace per jump (the server's listening socket is watched).
  // Bounded loosely for a loaded, sanitized machine; typically ~0.2 s.
  EXPECT_LT(wall, 20s);
  std::printf("127 s of back-off took %.3f s of wall time\n",
              std::chrono::duration<double>(wall).count());
}

}  // namespace
}  // namespace evergreen
