// A stream shares its fd with the loop's other users of it: an add_reader()
// callback on a stream's socket and the stream itself both work at once (each
// is a listener on the fd's one registry entry; two registrations of one fd
// used to collide with EEXIST), the level triggering such a neighbour needs
// does not make an idle stream spin the loop, and an fd closed behind the stream's
// back (what the patched close() does) wakes a task blocked on it with an
// error instead of leaving it asleep forever.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "evergreen/io/pipe.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/echo_server.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using SharedFdTest = evergreen::testing::IoTest;

using evergreen::testing::RunningEcho;

TEST_F(SharedFdTest, AReaderCallbackAndAStreamWatchTheSameSocket) {
  bounded([] {
    RunningEcho echo;
    TCPClient client;
    client.connect(echo.server.sockname());
    EventLoop& loop = EventLoop::current();
    int called = 0;
    // Never reads: it only sees what the stream reads.
    loop.add_reader(client.fileno(), [&] { ++called; });

    ASSERT_TRUE(client.write("PING\n"));
    EXPECT_EQ(client.read_until("\n"), "PING\n");
    EXPECT_GT(called, 0);  // the echo's arrival went to both

    // The stream read everything: the level-triggered callback is quiet.
    int after_read = called;
    sleep(20ms);
    EXPECT_EQ(called, after_read);

    EXPECT_TRUE(loop.remove_reader(client.fileno()));
    // Back to edge triggering: the stream still hears of new data.
    ASSERT_TRUE(client.write("PONG\n"));
    EXPECT_EQ(client.read_until("\n"), "PONG\n");
    EXPECT_EQ(called, after_read);
  });
}

// A level-triggered listener that asks for nothing itself: it hears every
// event the fd's entry is registered for, so it shows what the others ask.
struct EventCounter final : evergreen::internal::FdListener {
  EventCounter() { level_triggered = true; }
  void on_fd_events(uint32_t) override { ++events; }
  int events = 0;
};

TEST_F(SharedFdTest, ALevelTriggeredNeighbourDoesNotMakeAnIdleStreamSpin) {
  bounded([] {
    RunningEcho echo;
    TCPClient client;
    client.connect(echo.server.sockname());
    EventCounter neighbour;
    auto& fds = evergreen::internal::Scheduler::current().fds();
    fds.add(client.fileno(), neighbour);
    // The socket is writable all along: were the stream to ask for output
    // (or input) events while it has nothing to wait for, every poll would
    // report them and the loop would burn its thread instead of sleeping.
    sleep(50ms);
    EXPECT_EQ(neighbour.events, 0);
    // It asks once it waits: the echo is reported (to the neighbour too).
    ASSERT_TRUE(client.write("PING\n"));
    EXPECT_EQ(client.read_until("\n"), "PING\n");
    EXPECT_GT(neighbour.events, 0);
    int after_read = neighbour.events;
    sleep(50ms);
    EXPECT_EQ(neighbour.events, after_read);
    fds.remove(neighbour);
  });
}

TEST_F(SharedFdTest, AStreamWaitsForOutputRoomWhileTheFdIsLevelTriggered) {
  bounded([] {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    PipeStream writer;
    writer.open(fds[0]);
    PipeStream reader;
    reader.open(fds[1]);
    EventLoop& loop = EventLoop::current();
    loop.add_reader(fds[0], [] {});  // nothing comes back: never called

    // Far more than the socket buffers hold: flush() waits for room until
    // the reader has taken it all.
    const std::string payload(4 * 1024 * 1024, 'x');
    size_t received = 0;
    auto reading = spawn([&] {
      while (received < payload.size()) {
        std::string piece = reader.read_bytes(payload.size() - received);
        if (piece.empty()) break;
        received += piece.size();
      }
    });
    writer.write(payload);
    writer.flush();
    reading->join(5s);
    EXPECT_EQ(received, payload.size());
    loop.remove_reader(fds[0]);
  });
}

TEST_F(SharedFdTest, ClosingTheFdWakesATaskBlockedInRead) {
  bounded([] {
    RunningEcho echo;
    TCPClient client;
    client.connect(echo.server.sockname());
    const int fd = client.fileno();
    std::optional<int> error;
    auto blocked = spawn([&] {
      try {
        client.read_until("\n");
      } catch (const TCPError& raised) {
        error = raised.code().value();
      }
    });
    sleep(10ms);  // it waits for input that will not come
    ASSERT_FALSE(error);

    // What the patched close() does with an fd the loop watches.
    evergreen::internal::Scheduler::current().fds().forget(fd);
    ::close(fd);

    blocked->join(5s);
    EXPECT_EQ(error, EBADF);
    EXPECT_TRUE(client.closed());
  });
}

}  // namespace
}  // namespace evergreen::io
