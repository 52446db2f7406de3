// A task's write() on the io_uring backend: with nothing buffered before it,
// the data goes to the kernel as one ring send that never waits for room
// (KernelOperation::Kind::kSendNow), the writer parked until the loop's next
// io_uring_enter has performed it - no send(2) of its own. These tests run on
// whichever backend EVERGREEN_BACKEND names (CI runs both): the path checks
// expect such sends on io_uring and none on epoll; everything else must behave
// the same on both. Under ASan they also check that no send reads a buffer
// freed by a kill, a close or the stream's destruction.
#include <memory>
#include <string>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tcp_pair.h"

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::TcpPair;
using Kind = evergreen::internal::KernelOperation::Kind;
using RingSendTest = evergreen::testing::IoTest;
using namespace std::chrono_literals;

bool on_io_uring() { return EventLoop::current().backend() == Backend::kIoUring; }

uint64_t sends_now() {
  return evergreen::internal::Scheduler::current().operations_submitted(Kind::kSendNow);
}

std::string patterned(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i % 251);
  return data;
}

// Reads from `stream` until end of stream.
std::string read_to_end(BaseStream& stream) {
  std::string received;
  for (;;) {
    std::string piece = stream.read_bytes(1 << 20);
    if (piece.empty()) return received;
    received += piece;
  }
}

TEST_F(RingSendTest, ATasksWriteIsOneRingSendAndTheKernelTakesItAll) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    uint64_t before = sends_now();
    bool whole = false;
    auto writer = spawn([&] { whole = pair.client->write("ping\n"); });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(whole);  // the kernel took all of it at once: nothing buffered
    EXPECT_EQ(pair.client->pending_output(), 0u);
    EXPECT_EQ(sends_now() - before, on_io_uring() ? 1u : 0u);
    EXPECT_EQ(pair.accepted->read_until("\n"), "ping\n");
    // The thread's main context does not park for a write that need not
    // wait: its data goes out with a send(2) of its own.
    before = sends_now();
    EXPECT_TRUE(pair.client->write("pong\n"));
    EXPECT_EQ(sends_now(), before);
    EXPECT_EQ(pair.accepted->read_until("\n"), "pong\n");
    pair.server.close();
  }));
}

TEST_F(RingSendTest, AFullSocketMakesTheWriteBufferNotWait) {
  // The peer never reads: a ring send that waited for room would block the
  // writer for good; it must take what fits and leave the rest to the buffer.
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    std::string big = patterned(8 << 20);
    pair.client->set_write_high_water(big.size());
    bool whole = true;
    auto writer = spawn([&] { whole = pair.client->write(big); });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_FALSE(whole);
    EXPECT_GT(pair.client->pending_output(), 0u);
    EXPECT_LE(pair.client->pending_output(), big.size());
    // The loop sends the rest as the peer drains it, in order.
    auto closer = spawn([&] {
      pair.client->flush();
      pair.client->shutdown();
    });
    EXPECT_TRUE(read_to_end(*pair.accepted) == big) << "the received bytes differ";
    EXPECT_TRUE(closer->join(5s));
    pair.server.close();
  }));
}

TEST_F(RingSendTest, APeerThatStopsReadingStopsWritersAtTheBound) {
  constexpr size_t kMark = 64 * 1024;
  constexpr size_t kChunk = 16 * 1024;
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    pair.client->set_write_high_water(kMark);
    size_t written = 0;
    auto writers = std::make_shared<std::vector<std::shared_ptr<Task>>>();
    for (int i = 0; i < 4; ++i) {
      writers->push_back(spawn([&] {
        std::string chunk(kChunk, 'w');
        for (;;) {
          pair.client->write(chunk);
          written += chunk.size();
        }
      }));
    }
    // The kernel's socket buffers take a few MiB first (slowly under a
    // sanitizer); then the writers must stop. If they never do, bounded()
    // fails the test.
    size_t last = 0;
    do {
      last = written;
      EXPECT_LE(pair.client->pending_output(), kMark);
      sleep(50ms);
    } while (written != last);
    EXPECT_GT(written, 0u);
    EXPECT_LE(pair.client->pending_output(), kMark);
    sleep(30ms);
    EXPECT_EQ(written, last) << "writers went on with nobody reading";
    for (auto& writer : *writers) writer->kill();
    for (auto& writer : *writers) EXPECT_TRUE(writer->join(5s));
    pair.server.close();
  }));
}

TEST_F(RingSendTest, KillDuringAWritesRingSendKeepsExactlyWhatWasTaken) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    uint64_t before = sends_now();
    // On the heap, freed as soon as the killed writer unwinds: a send still
    // reading it would show under ASan.
    auto data = std::make_unique<std::string>(patterned(32 * 1024));
    size_t accepted = 0;
    bool killed = false;
    std::shared_ptr<Task> writer = spawn([&] {
      try {
        pair.client->write(*data, accepted);
      } catch (const TaskExit&) {
        killed = true;
        data.reset();
        throw;
      }
    });
    // Runs right after the writer parked in its send, before the loop
    // submits it.
    auto killer = spawn([&] { writer->kill(); });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(killer->join(5s));
    if (on_io_uring()) {
      EXPECT_TRUE(killed);
      EXPECT_EQ(sends_now() - before, 1u);
    }
    size_t taken = accepted;
    std::string expected = patterned(32 * 1024).substr(0, taken);
    pair.client->shutdown();
    EXPECT_TRUE(read_to_end(*pair.accepted) == expected) << "the peer got other bytes";
    pair.server.close();
  }));
}

TEST_F(RingSendTest, CloseDuringAWritesRingSendWakesTheWriterWithTheError) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    bool raised_closed = false;
    auto writer = spawn([&] {
      try {
        pair.client->write(patterned(4096));
      } catch (const TCPError& error) {
        raised_closed = error.closed();
      }
    });
    auto closer = spawn([&] { pair.client->close(); });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(closer->join(5s));
    if (on_io_uring()) EXPECT_TRUE(raised_closed);
    EXPECT_TRUE(pair.client->closed());
    pair.server.close();
  }));
}

TEST_F(RingSendTest, DestroyingTheStreamDuringAWritesRingSendLeavesTheWriterOff) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    bool raised = false;
    auto writer = spawn([&] {
      try {
        pair.client->write(patterned(4096));
      } catch (const TCPError&) {
        raised = true;
      }
    });
    auto destroyer = spawn([&] { pair.client.reset(); });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(destroyer->join(5s));
    if (on_io_uring()) EXPECT_TRUE(raised);
    // The peer sees the connection end.
    EXPECT_EQ(pair.accepted->read_bytes(1 << 20).size() % 4096, 0u);
    pair.server.close();
  }));
}

TEST_F(RingSendTest, FlushWaitsForAWriteWhoseRingSendIsInFlight) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    bool written = false;
    bool written_before_flush_returned = false;
    auto writer = spawn([&] {
      pair.client->write("data\n");
      written = true;
    });
    auto flusher = spawn([&] {
      pair.client->flush();
      written_before_flush_returned = written;
    });
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(flusher->join(5s));
    if (on_io_uring()) EXPECT_TRUE(written_before_flush_returned);
    EXPECT_EQ(pair.accepted->read_until("\n"), "data\n");
    pair.server.close();
  }));
}

TEST_F(RingSendTest, WritersKeepTheirOrderWhileOneWaitsInTheRing) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    std::vector<std::shared_ptr<Task>> writers;
    for (int i = 0; i < 10; ++i) {
      writers.push_back(spawn([&, i] { pair.client->write(std::string(1000, 'a' + i)); }));
    }
    for (auto& writer : writers) EXPECT_TRUE(writer->join(5s));
    pair.client->shutdown();
    std::string expected;
    for (int i = 0; i < 10; ++i) expected += std::string(1000, 'a' + i);
    EXPECT_EQ(read_to_end(*pair.accepted), expected);
    pair.server.close();
  }));
}

}  // namespace
}  // namespace evergreen::io
