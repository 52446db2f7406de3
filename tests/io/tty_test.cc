// Terminals through a pseudo-terminal pair (openpty): the stream is the
// slave side; the test plays the terminal on the master side.
#include "evergreen/io/tty.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "evergreen/io/pipe.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using TtyTest = evergreen::testing::IoTest;

struct Pty {
  Pty() {
    int master_fd = -1;
    if (openpty(&master_fd, &slave, nullptr, nullptr, nullptr) != 0) {
      available = false;
      return;
    }
    master.open(master_fd);
  }
  ~Pty() {
    if (slave >= 0) ::close(slave);
  }
  bool available = true;
  int slave = -1;
  PipeStream master;  // the terminal's side
};

TEST_F(TtyTest, RoundTripInRawMode) {
  Pty pty;
  if (!pty.available) GTEST_SKIP() << "no pseudo-terminals here";
  TTYStream tty(pty.slave, /*readable=*/true);
  tty.set_raw_mode(true);
  bounded([&] {
    // Raw: bytes arrive as typed, without waiting for a newline.
    pty.master.write("abc");
    EXPECT_EQ(tty.read_bytes(3), "abc");
    // Raw: output is not post-processed ("\n" stays "\n").
    tty.write("hi\n");
    EXPECT_EQ(pty.master.read_until("\n"), "hi\n");
  });
}

TEST_F(TtyTest, CookedModeIsLineBufferedAndEchoes) {
  Pty pty;
  if (!pty.available) GTEST_SKIP() << "no pseudo-terminals here";
  TTYStream tty(pty.slave, /*readable=*/true);
  bounded([&] {
    pty.master.write("typed line\n");
    EXPECT_EQ(tty.read_until("\n"), "typed line\n");
    EXPECT_EQ(pty.master.read_until("\n"), "typed line\r\n");  // the echo
    tty.write("out\n");
    EXPECT_EQ(pty.master.read_until("\n"), "out\r\n");  // ONLCR
  });
}

TEST_F(TtyTest, RawModeIsUndoneOnClose) {
  Pty pty;
  if (!pty.available) GTEST_SKIP() << "no pseudo-terminals here";
  termios before{};
  ASSERT_EQ(tcgetattr(pty.slave, &before), 0);
  {
    TTYStream tty(pty.slave, true);
    tty.set_raw_mode(true);
    termios raw{};
    ASSERT_EQ(tcgetattr(pty.slave, &raw), 0);
    EXPECT_EQ(raw.c_lflag & ICANON, 0u);
  }
  termios after{};
  ASSERT_EQ(tcgetattr(pty.slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  // The caller's descriptor is still open and still blocking.
  EXPECT_EQ(fcntl(pty.slave, F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(TtyTest, WindowSize) {
  Pty pty;
  if (!pty.available) GTEST_SKIP() << "no pseudo-terminals here";
  winsize size{};
  size.ws_col = 132;
  size.ws_row = 43;
  ASSERT_EQ(ioctl(pty.slave, TIOCSWINSZ, &size), 0);
  TTYStream tty(pty.slave, false);
  EXPECT_EQ(tty.winsize(), (WindowSize{132, 43}));
}

TEST_F(TtyTest, AWriteOnlyStreamRefusesReads) {
  Pty pty;
  if (!pty.available) GTEST_SKIP() << "no pseudo-terminals here";
  TTYStream tty(pty.slave, /*readable=*/false);
  EXPECT_FALSE(tty.readable());
  try {
    tty.read_bytes(1);
    ADD_FAILURE() << "expected TTYError";
  } catch (const TTYError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
  }
  EXPECT_FALSE(tty.closed());
}

TEST_F(TtyTest, ADescriptorThatIsNotATerminal) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  {
    TTYStream stream(fds[1], false);
    try {
      stream.winsize();
      ADD_FAILURE() << "expected ENOTTY";
    } catch (const TTYError& error) {
      EXPECT_EQ(error.code().value(), ENOTTY);
    }
    EXPECT_THROW(stream.set_raw_mode(true), TTYError);
    // Still a stream.
    bounded([&] { EXPECT_TRUE(stream.write("through a pipe")); });
    char buffer[32] = {};
    EXPECT_EQ(::read(fds[0], buffer, sizeof buffer), 14);
  }
  // Its flags were restored and the caller's fd left open.
  EXPECT_EQ(fcntl(fds[1], F_GETFL) & O_NONBLOCK, 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(TtyTest, StandardStreamsOpen) {
  StdoutStream out;
  StderrStream err;
  EXPECT_FALSE(out.closed());
  EXPECT_GE(out.fileno(), 3);  // a copy: fd 1 itself stays the caller's
  out.close();
  EXPECT_EQ(fcntl(1, F_GETFD), fcntl(1, F_GETFD));
  EXPECT_NE(fcntl(1, F_GETFL), -1);
}

TEST_F(TtyTest, InvalidDescriptor) {
  try {
    TTYStream tty(54321, true);
    ADD_FAILURE() << "expected TTYError";
  } catch (const TTYError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
  }
}

}  // namespace
}  // namespace evergreen::io
