// BaseStream's contract, observed through PipeStreams over a socketpair and
// pipe(2): buffering, delimiters across packets, limits, write buffering and
// back-pressure, errors, close() and kill/Timeout while blocked.
#include "evergreen/io/stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "evergreen/io/pipe.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

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
    sleep(50ms);
    // The reader never read: the writer is stuck with at most a socket buffer
    // plus the high-water mark plus one chunk accepted.
    size_t stuck_at = written;
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
