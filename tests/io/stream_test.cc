// BaseStream's contract, observed through PipeStreams over a socketpair and
// pipe(2): buffering, delimiters across packets, limits, write buffering and
// back-pressure, errors, close() and kill/Timeout while blocked.
#include "evergreen/io/stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evergreen/io/pipe.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using StreamTest = evergreen::testing::IoTest;

// Two connected streams.
struct StreamPair {
  StreamPair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    left.open(fds[0]);
    right.open(fds[1]);
  }
  PipeStream left;
  PipeStream right;
};

TEST_F(StreamTest, ReadBytesReturnsAtMostWhatWasAsked) {
  StreamPair pair;
  bounded([&] {
    EXPECT_TRUE(pair.left.write("hello world"));
    EXPECT_EQ(pair.right.read_bytes(5), "hello");
    EXPECT_EQ(pair.right.read_bytes(100), " world");
    pair.left.close();
    EXPECT_EQ(pair.right.read_bytes(100), "");  // end of stream
    EXPECT_EQ(pair.right.read_bytes(100), "");
  });
}

TEST_F(StreamTest, ReadUntilFindsDelimitersAcrossPackets) {
  StreamPair pair;
  auto writer = spawn([&] {
    for (const char* piece : {"hel", "lo\r", "\nwor", "ld\r\nrest"}) {
      pair.left.write(piece);
      sleep(1ms);  // separate reads on the other side
    }
    pair.left.close();
  });
  bounded([&] {
    EXPECT_EQ(pair.right.read_until("\r\n"), "hello\r\n");
    EXPECT_EQ(pair.right.read_until("\r\n"), "world\r\n");
    // End of stream: the unterminated remainder, then nothing.
    EXPECT_EQ(pair.right.read_until("\r\n"), "rest");
    EXPECT_EQ(pair.right.read_until("\r\n"), "");
    writer->join();
  });
}

TEST_F(StreamTest, ReadUntilKeepsTheRestForTheNextRead) {
  StreamPair pair;
  bounded([&] {
    pair.left.write("one\ntwo\nthree");
    EXPECT_EQ(pair.right.read_until("\n"), "one\n");
    EXPECT_EQ(pair.right.read_bytes(2), "tw");
    EXPECT_EQ(pair.right.read_until("\n"), "o\n");
    pair.left.write("\n");
    EXPECT_EQ(pair.right.read_until("\n"), "three\n");
  });
}

TEST_F(StreamTest, ReadUntilRegexIncludesTheMatch) {
  StreamPair pair;
  auto writer = spawn([&] {
    pair.left.write("hello~");
    sleep(1ms);
    pair.left.write("~world~~tail");
    pair.left.close();
  });
  bounded([&] {
    EXPECT_EQ(pair.right.read_until_regex("~~"), "hello~~");
    EXPECT_EQ(pair.right.read_until_regex("~+"), "world~~");
    EXPECT_EQ(pair.right.read_until_regex("~~"), "tail");
    EXPECT_EQ(pair.right.read_until_regex("~~"), "");
    writer->join();
  });
}

TEST_F(StreamTest, ReadUntilRegexMatchesBinaryData) {
  StreamPair pair;
  bounded([&] {
    std::string data("\xff\x00\x01\xfe\x80", 5);
    pair.left.write(data);
    EXPECT_EQ(pair.right.read_until_regex("\\x01"), std::string("\xff\x00\x01", 3));
    EXPECT_EQ(pair.right.read_until_regex("[\\x80-\\xff]+"), "\xfe\x80");
  });
}

TEST_F(StreamTest, BadPatternsAndDelimitersAreInvalidArguments) {
  StreamPair pair;
  EXPECT_THROW(pair.right.read_until_regex("(unclosed"), std::invalid_argument);
  EXPECT_THROW(pair.right.read_until(""), std::invalid_argument);
  bounded([&] {
    pair.left.write("abc");
    EXPECT_THROW(pair.right.read_until_regex("x*"), std::invalid_argument);
  });
}

TEST_F(StreamTest, AnEndlessLineIsAnErrorNotUnboundedMemory) {
  StreamPair pair;
  pair.right.set_max_buffer_size(64 * 1024);
  auto writer = spawn([&] {
    std::string chunk(8192, 'x');
    try {
      for (int i = 0; i < 64; ++i) pair.left.write(chunk);
    } catch (const StreamError&) {
    }
  });
  bounded([&] {
    try {
      pair.right.read_until("\n");
      ADD_FAILURE() << "expected an error";
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), ENOBUFS);
      EXPECT_NE(std::string(error.what()).find("max_buffer_size"), std::string::npos)
          << error.what();
    }
    // The stream is still usable: the data is there to be read in pieces.
    EXPECT_EQ(pair.right.read_bytes(4), "xxxx");
    pair.right.close();
    writer->join();
  });
}

TEST_F(StreamTest, WriteBuffersWhatTheKernelRefusesAndFlushWaitsForIt) {
  StreamPair pair;
  std::string big(4 << 20, 'a');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  pair.left.set_write_high_water(big.size() * 2);
  bounded([&] {
    EXPECT_FALSE(pair.left.write(big));  // more than a socket buffer holds
    EXPECT_GT(pair.left.pending_output(), 0u);
    std::string received;
    auto reader = spawn([&] {
      while (received.size() < big.size()) received += pair.right.read_bytes(1 << 20);
    });
    pair.left.flush();
    EXPECT_EQ(pair.left.pending_output(), 0u);
    reader->join();
    EXPECT_EQ(received, big);
  });
}

TEST_F(StreamTest, BufferedOutputIsSentWithoutAnyoneWaiting) {
  StreamPair pair;
  std::string big(2 << 20, 'z');
  pair.left.set_write_high_water(4 << 20);  // write() itself must not block
  bounded([&] {
    EXPECT_FALSE(pair.left.write(big));
    // Nobody flushes: the loop sends the rest as the reader drains.
    std::string received;
    while (received.size() < big.size()) received += pair.right.read_bytes(1 << 20);
    EXPECT_EQ(received.size(), big.size());
    EXPECT_EQ(pair.left.pending_output(), 0u);
  });
}

TEST_F(StreamTest, WriteBlocksPastTheHighWaterMark) {
  StreamPair pair;
  pair.left.set_write_high_water(64 * 1024);
  size_t written = 0;
  auto writer = spawn([&] {
    std::string chunk(16 * 1024, 'w');
    for (;;) {
      pair.left.write(chunk);
      written += chunk.size();
    }
  });
  bounded([&] {
    // The reader never reads: once the socket buffer is full (a task's write
    // on io_uring is one loop turn, slow under a sanitizer) the writer is
    // stuck with at most a socket buffer plus the high-water mark plus one
    // chunk accepted. A writer that never stops fails through bounded().
    size_t stuck_at = 0;
    do {
      stuck_at = written;
      sleep(50ms);
    } while (written != stuck_at);
    EXPECT_LE(pair.left.pending_output(), 64u * 1024 + 16 * 1024);
    sleep(20ms);
    EXPECT_EQ(written, stuck_at);
    EXPECT_TRUE(writer->is_alive());
    // Draining releases it.
    while (written == stuck_at) pair.right.read_bytes(1 << 20);
    EXPECT_GT(written, stuck_at);
    writer->kill();
    writer->join();
  });
}

// `size` bytes in which every position has its own value (modulo a prime), so
// a byte lost, duplicated or moved shows in a comparison.
std::string numbered_bytes(size_t size, size_t start = 0) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((start + i) % 251);
  return data;
}

// Reads until `stream` reaches end of stream.
std::string read_to_end(BaseStream& stream) {
  std::string received;
  for (;;) {
    std::string piece = stream.read_bytes(1 << 16);
    if (piece.empty()) return received;
    received += piece;
  }
}

TEST_F(StreamTest, InterruptedWritesCannotGrowTheBufferPastTheBound) {
  // The report: a retried `{ Timeout t(2ms); write(chunk); }` against
  // a peer that never reads used to leave every chunk buffered.
  StreamPair pair;
  constexpr size_t kHighWater = 64 * 1024;
  pair.left.set_write_high_water(kHighWater);
  std::string chunk(kHighWater, 'r');
  int interrupted = 0;
  bounded([&] {
    for (int i = 0; i < 50; ++i) {
      try {
        Timeout deadline(2ms);
        pair.left.write(chunk);
      } catch (const Timeout&) {
        ++interrupted;
      }
      ASSERT_LE(pair.left.pending_output(), 2 * kHighWater) << "after write " << i;
    }
  });
  EXPECT_GT(interrupted, 40);  // the peer never read: nearly every write waited
}

TEST_F(StreamTest, ManyWritersStayWithinTheBoundAndEachWriteArrivesWhole) {
  StreamPair pair;
  constexpr size_t kHighWater = 16 * 1024;
  constexpr int kWriters = 200;
  pair.left.set_write_high_water(kHighWater);
  // Writer i sends one record of kHighWater bytes: its number, then its letter.
  auto record_of = [](int i) {
    std::string record(kHighWater, static_cast<char>('A' + i % 26));
    std::string number = std::to_string(i) + ":";
    record.replace(0, number.size(), number);
    return record;
  };
  size_t most_pending = 0;
  int finished = 0;
  std::vector<std::shared_ptr<Task>> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.push_back(spawn([&, i] {
      pair.left.write(record_of(i));
      most_pending = std::max(most_pending, pair.left.pending_output());
      ++finished;
    }));
  }
  bounded([&] {
    sleep(20ms);  // every writer ran; nobody reads yet
    most_pending = std::max(most_pending, pair.left.pending_output());
    EXPECT_LT(finished, kWriters);
    std::string received;
    auto reader = spawn([&] { received = read_to_end(pair.right); });
    for (auto& writer : writers) writer->join();
    pair.left.shutdown();
    reader->join();
    ASSERT_EQ(received.size(), kWriters * kHighWater);
    // Records arrive whole and in the order the writers called write().
    for (int i = 0; i < kWriters; ++i) {
      ASSERT_EQ(received.compare(i * kHighWater, kHighWater, record_of(i)), 0)
          << "record " << i << " begins " << received.substr(i * kHighWater, 8);
    }
  });
  EXPECT_EQ(finished, kWriters);
  EXPECT_LE(most_pending, 2 * kHighWater);
}

TEST_F(StreamTest, AnInterruptedWriteSaysHowMuchItTookAndThePeerGetsExactlyThat) {
  StreamPair pair;
  constexpr size_t kHighWater = 32 * 1024;
  pair.left.set_write_high_water(kHighWater);
  const std::string payload = numbered_bytes(2 << 20);
  std::string received;
  bounded([&] {
    // Nobody reads: the write stops once the socket and the buffer are full.
    size_t taken = 0;
    bool timed_out = false;
    try {
      Timeout deadline(20ms);
      pair.left.write(payload, taken);
    } catch (const Timeout&) {
      timed_out = true;
    }
    ASSERT_TRUE(timed_out);
    EXPECT_GT(taken, 0u);
    EXPECT_LT(taken, payload.size());
    EXPECT_LE(pair.left.pending_output(), kHighWater);
    // A slow reader now; the writer retries the rest under short timeouts.
    auto reader = spawn([&] {
      for (;;) {
        std::string piece = pair.right.read_bytes(16 * 1024);
        if (piece.empty()) return;
        received += piece;
        sleep(100us);
      }
    });
    std::string_view rest(payload);
    rest.remove_prefix(taken);
    int retries = 0;
    while (!rest.empty()) {
      size_t accepted = 0;
      try {
        Timeout deadline(1ms);
        pair.left.write(rest, accepted);
        EXPECT_EQ(accepted, rest.size());
      } catch (const Timeout&) {
        ++retries;
      }
      ASSERT_LE(accepted, rest.size());
      rest.remove_prefix(accepted);
    }
    pair.left.shutdown();
    reader->join();
    EXPECT_GT(retries, 0);
  });
  // Nothing lost, nothing sent twice.
  ASSERT_EQ(received.size(), payload.size());
  EXPECT_TRUE(received == payload);
}

TEST_F(StreamTest, AWriteKilledWhileWaitingForItsTurnTakesNothing) {
  StreamPair pair;
  constexpr size_t kHighWater = 8 * 1024;
  pair.left.set_write_high_water(kHighWater);
  const std::string first(256 * 1024, 'a');  // blocks: more than the socket holds
  size_t killed_took = 12345;
  auto holder = spawn([&] { pair.left.write(first); });
  auto queued = spawn([&] { pair.left.write(std::string(1000, 'k'), killed_took); });
  auto last = spawn([&] { pair.left.write("z"); });
  bounded([&] {
    sleep(10ms);
    EXPECT_TRUE(holder->is_alive());
    EXPECT_TRUE(queued->is_alive());
    queued->kill();
    EXPECT_TRUE(queued->join(1s));
    EXPECT_EQ(killed_took, 0u);
    std::string received;
    auto reader = spawn([&] { received = read_to_end(pair.right); });
    holder->join();
    last->join();
    pair.left.shutdown();
    reader->join();
    EXPECT_TRUE(received == first + "z") << received.size() << " bytes";
  });
}

TEST_F(StreamTest, AKilledWriterHandsTheTurnOnAndKeepsWhatItTook) {
  StreamPair pair;
  constexpr size_t kHighWater = 8 * 1024;
  pair.left.set_write_high_water(kHighWater);
  const std::string big = numbered_bytes(512 * 1024);
  size_t took = 0;
  auto holder = spawn([&] { pair.left.write(big, took); });
  auto next = spawn([&] { pair.left.write("after"); });
  bounded([&] {
    sleep(10ms);
    holder->kill();
    EXPECT_TRUE(holder->join(1s));
    EXPECT_GT(took, 0u);
    EXPECT_LT(took, big.size());
    std::string received;
    auto reader = spawn([&] { received = read_to_end(pair.right); });
    next->join();
    pair.left.shutdown();
    reader->join();
    EXPECT_TRUE(received == big.substr(0, took) + "after") << received.size() << " bytes";
  });
}

TEST_F(StreamTest, CloseWakesWritersWaitingForTheirTurnAndForRoom) {
  StreamPair pair;
  pair.left.set_write_high_water(4096);
  int errors = 0;
  auto writer = [&] {
    try {
      pair.left.write(std::string(512 * 1024, 'c'));
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), EBADF) << error.what();
      ++errors;
    }
  };
  auto first = spawn(writer);
  auto second = spawn(writer);
  bounded([&] {
    sleep(5ms);
    EXPECT_EQ(errors, 0);
    pair.left.close();
    first->join();
    second->join();
  });
  EXPECT_EQ(errors, 2);
}

TEST_F(StreamTest, DestroyingAStreamWakesQueuedWritersWithAnError) {
  auto stream = std::make_unique<StreamPair>();
  stream->left.set_write_high_water(4096);
  int destroyed_errors = 0;
  auto writer = [&, &left = stream->left] {
    try {
      left.write(std::string(512 * 1024, 'd'));
    } catch (const PipeError& error) {
      EXPECT_NE(std::string(error.what()).find("destroyed"), std::string::npos) << error.what();
      ++destroyed_errors;
    }
  };
  auto first = spawn(writer);
  auto second = spawn(writer);
  bounded([&] {
    sleep(5ms);
    stream.reset();
    first->join();
    second->join();
  });
  EXPECT_EQ(destroyed_errors, 2);
}

TEST_F(StreamTest, WritesBeforeOpenAreBoundedAndSentOnOpen) {
  PipeStream stream;
  constexpr size_t kHighWater = 16 * 1024;
  stream.set_write_high_water(kHighWater);
  const std::string payload = numbered_bytes(256 * 1024);
  size_t taken = 0;
  bool timed_out = false;
  bounded([&] {
    try {
      Timeout deadline(10ms);
      stream.write(payload, taken);
    } catch (const Timeout&) {
      timed_out = true;
    }
  });
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(taken, kHighWater);
  EXPECT_EQ(stream.pending_output(), kHighWater);
  // A writer blocked before open() goes on once the stream is opened.
  size_t rest_taken = 0;
  auto writer = spawn([&] { stream.write(std::string_view(payload).substr(taken), rest_taken); });
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  PipeStream peer;
  peer.open(fds[1]);
  bounded([&] {
    sleep(5ms);
    EXPECT_TRUE(writer->is_alive());
    EXPECT_LE(stream.pending_output(), kHighWater);
    stream.open(fds[0]);
    std::string received;
    auto reader = spawn([&] { received = read_to_end(peer); });
    writer->join();
    EXPECT_EQ(rest_taken, payload.size() - taken);
    stream.shutdown();
    reader->join();
    EXPECT_TRUE(received == payload) << received.size() << " bytes";
  });
}

TEST_F(StreamTest, AZeroHighWaterMarkMakesEveryWriteWaitForTheKernel) {
  StreamPair pair;
  pair.left.set_write_high_water(0);
  const std::string big = numbered_bytes(1 << 20);
  std::string received;
  auto reader = spawn([&] { received = read_to_end(pair.right); });
  bounded([&] {
    EXPECT_TRUE(pair.left.write(big));  // nothing was ever buffered
    EXPECT_EQ(pair.left.pending_output(), 0u);
    pair.left.shutdown();
    reader->join();
  });
  EXPECT_TRUE(received == big);
}

TEST_F(StreamTest, RaisingTheHighWaterMarkReleasesAWaitingWriter) {
  StreamPair pair;
  pair.left.set_write_high_water(4096);
  bool done = false;
  auto writer = spawn([&] {
    pair.left.write(std::string(1 << 20, 'h'));
    done = true;
  });
  bounded([&] {
    sleep(5ms);
    EXPECT_FALSE(done);
    pair.left.set_write_high_water(2 << 20);
    writer->join();
    EXPECT_TRUE(done);
    EXPECT_GT(pair.left.pending_output(), 0u);
  });
}

TEST_F(StreamTest, WritingToAPeerThatClosedIsAnErrorNotSigpipe) {
  StreamPair pair;
  bounded([&] {
    pair.right.close();
    try {
      for (int i = 0; i < 100; ++i) pair.left.write("data");
      ADD_FAILURE() << "expected EPIPE";
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), EPIPE) << error.what();
    }
    EXPECT_TRUE(pair.left.closed());
    // Later operations report the same error.
    try {
      pair.left.read_bytes(1);
      ADD_FAILURE() << "expected an error";
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), EPIPE) << error.what();
    }
  });
}

TEST_F(StreamTest, PlainPipesDoNotRaiseSigpipeEither) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  PipeStream writer;
  writer.open(fds[1]);
  ::close(fds[0]);
  bounded([&] {
    try {
      writer.write("data");
      ADD_FAILURE() << "expected EPIPE";
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), EPIPE);
    }
  });
}

TEST_F(StreamTest, OperationsOnAClosedStreamThrowItsErrorType) {
  StreamPair pair;
  pair.left.close();
  EXPECT_TRUE(pair.left.closed());
  EXPECT_EQ(pair.left.fileno(), -1);
  EXPECT_THROW(pair.left.read_bytes(1), PipeError);
  EXPECT_THROW(pair.left.read_until("\n"), PipeError);
  EXPECT_THROW(pair.left.read_until_regex("x"), PipeError);
  EXPECT_THROW(pair.left.write("x"), PipeError);
  EXPECT_THROW(pair.left.flush(), PipeError);
  EXPECT_THROW(pair.left.shutdown(), PipeError);
  try {
    pair.left.read_bytes(1);
  } catch (const StreamError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_NE(std::string(error.what()).find("closed"), std::string::npos) << error.what();
  }
  pair.left.close();  // twice: nothing
}

TEST_F(StreamTest, CloseWakesEveryBlockedTaskWithTheError) {
  StreamPair pair;
  int errors = 0;
  auto blocked_reader = [&] {
    try {
      pair.right.read_until("\n");
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), EBADF);
      ++errors;
    }
  };
  auto first = spawn(blocked_reader);
  auto second = spawn(blocked_reader);
  bounded([&] {
    sleep(5ms);
    EXPECT_EQ(errors, 0);
    pair.right.close();
    first->join();
    second->join();
  });
  EXPECT_EQ(errors, 2);
}

// Checks that `call` throws a StreamError for a stream this side closed.
template <class F>
void expect_closed_error(F&& call) {
  try {
    std::forward<F>(call)();
    ADD_FAILURE() << "expected a StreamError";
  } catch (const StreamError& error) {
    std::string what = error.what();
    EXPECT_TRUE(error.closed()) << what;
    EXPECT_EQ(error.code().value(), EBADF) << what;
    EXPECT_NE(what.find("closed"), std::string::npos) << what;
    EXPECT_EQ(what.find("Bad file descriptor"), std::string::npos) << what;
  }
}

TEST_F(StreamTest, ErrorsAfterCloseSayClosed) {
  StreamPair pair;
  pair.left.close();
  expect_closed_error([&] { pair.left.read_bytes(1); });
  expect_closed_error([&] { pair.left.read_until("\n"); });
  expect_closed_error([&] { pair.left.read_until_regex("x"); });
  expect_closed_error([&] { pair.left.write("x"); });
  expect_closed_error([&] { pair.left.flush(); });
  expect_closed_error([&] { pair.left.shutdown(); });
  // The error is the stream's own type, and survives a copy.
  try {
    pair.left.read_bytes(1);
  } catch (const PipeError& error) {
    PipeError copy = error;
    EXPECT_TRUE(copy.closed());
    EXPECT_STREQ(copy.what(), error.what());
  }
}

TEST_F(StreamTest, AReadBlockedWhenAnotherTaskClosesTheStreamSaysClosed) {
  StreamPair pair;
  int woken = 0;
  auto reader = spawn([&] {
    expect_closed_error([&] { pair.right.read_until("\n"); });
    ++woken;
  });
  auto writer = spawn([&] {
    pair.right.set_write_high_water(0);
    // Fills the socket buffer, then waits for room until the close.
    expect_closed_error([&] {
      for (;;) pair.right.write(std::string(64 * 1024, 'w'));
    });
    ++woken;
  });
  bounded([&] {
    sleep(5ms);
    pair.right.close();
    reader->join();
    writer->join();
  });
  EXPECT_EQ(woken, 2);
}

TEST_F(StreamTest, DestroyingAStreamWakesItsWaitersWithAClosedError) {
  auto stream = std::make_unique<StreamPair>();
  bool woken = false;
  auto reader = spawn([&, &right = stream->right] {
    expect_closed_error([&] { right.read_bytes(1); });
    woken = true;
  });
  bounded([&] {
    sleep(5ms);
    stream.reset();
    reader->join();
  });
  EXPECT_TRUE(woken);
}

TEST_F(StreamTest, ErrorsFromThePeerAreNotClosedErrors) {
  StreamPair pair;
  bounded([&] {
    pair.right.close();
    try {
      for (int i = 0; i < 100; ++i) pair.left.write("data");
      ADD_FAILURE() << "expected EPIPE";
    } catch (const StreamError& error) {
      EXPECT_EQ(error.code().value(), EPIPE) << error.what();
      EXPECT_FALSE(error.closed()) << error.what();
    }
    // The stream is closed now, by that error rather than by this side.
    EXPECT_TRUE(pair.left.closed());
    try {
      pair.left.read_bytes(1);
      ADD_FAILURE() << "expected an error";
    } catch (const StreamError& error) {
      EXPECT_EQ(error.code().value(), EPIPE) << error.what();
      EXPECT_FALSE(error.closed()) << error.what();
    }
  });
  // Nor is an error built by hand.
  EXPECT_FALSE(StreamError(ECONNRESET, "evergreen: test").closed());
}

TEST_F(StreamTest, TimeoutInterruptsAReadAndKeepsWhatArrived) {
  StreamPair pair;
  bounded([&] {
    pair.left.write("partial");
    bool timed_out = false;
    try {
      Timeout deadline(20ms);
      pair.right.read_until("\n");
    } catch (const Timeout&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    pair.left.write(" line\n");
    EXPECT_EQ(pair.right.read_until("\n"), "partial line\n");
  });
}

TEST_F(StreamTest, KillEndsATaskBlockedInARead) {
  StreamPair pair;
  bool reached_end = false;
  auto reader = spawn([&] {
    pair.right.read_bytes(10);
    reached_end = true;
  });
  bounded([&] {
    sleep(5ms);
    reader->kill();
    EXPECT_TRUE(reader->join(1s));
  });
  EXPECT_FALSE(reached_end);
  // The stream still works.
  bounded([&] {
    pair.left.write("ok");
    EXPECT_EQ(pair.right.read_bytes(10), "ok");
  });
}

TEST_F(StreamTest, DestroyingAStreamWakesItsWaitersWithAnError) {
  auto stream = std::make_unique<StreamPair>();
  bool got_error = false;
  auto reader = spawn([&, &right = stream->right] {
    try {
      right.read_bytes(1);
    } catch (const PipeError& error) {
      got_error = true;
      EXPECT_NE(std::string(error.what()).find("destroyed"), std::string::npos) << error.what();
    }
  });
  bounded([&] {
    sleep(5ms);
    stream.reset();
    reader->join();
  });
  EXPECT_TRUE(got_error);
}

TEST_F(StreamTest, ShutdownFlushesThenEndsTheStreamForThePeer) {
  StreamPair pair;
  bounded([&] {
    std::string big(1 << 20, 's');
    pair.left.write(big);
    auto closer = spawn([&] { pair.left.shutdown(); });
    std::string received;
    for (;;) {
      std::string piece = pair.right.read_bytes(1 << 16);
      if (piece.empty()) break;
      received += piece;
    }
    EXPECT_EQ(received.size(), big.size());
    closer->join();
    // The other direction still works.
    pair.right.write("back");
    EXPECT_EQ(pair.left.read_bytes(10), "back");
    EXPECT_THROW(pair.left.write("more"), PipeError);
  });
}

TEST_F(StreamTest, AStreamThatIsNotOpenYetBuffersWritesAndRefusesReads) {
  PipeStream stream;
  EXPECT_FALSE(stream.closed());
  EXPECT_FALSE(stream.write("early"));
  try {
    stream.read_bytes(1);
    ADD_FAILURE() << "expected ENOTCONN";
  } catch (const PipeError& error) {
    EXPECT_EQ(error.code().value(), ENOTCONN);
  }
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  stream.open(fds[0]);
  PipeStream peer;
  peer.open(fds[1]);
  bounded([&] { EXPECT_EQ(peer.read_bytes(10), "early"); });
}

TEST_F(StreamTest, OpeningABadDescriptorIsAPipeError) {
  PipeStream stream;
  try {
    stream.open(12345);
    ADD_FAILURE() << "expected EBADF";
  } catch (const PipeError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_NE(std::string(error.what()).find("12345"), std::string::npos) << error.what();
  }
}

TEST_F(StreamTest, AnIdleStreamDoesNotKeepTheLoopRunning) {
  StreamPair pair;
  int ran = 0;
  EventLoop::current().call_soon([&] { ++ran; });
  EventLoop::current().run();  // returns although two sockets are registered
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace evergreen::io
