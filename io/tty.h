// evergreen/io/tty.h
//
// Terminals as cooperative streams, and the process's standard streams.
//
//   io::StdinStream in;
//   in.set_raw_mode(true);                 // keys arrive one by one, unechoed
//   std::string key = in.read_bytes(1);
//   auto [width, height] = in.winsize();
//
// A TTYStream works on its own open file description of the terminal
// (reopened through its name, else a dup), so making it non-blocking does not
// change the descriptor the caller passed, which stays the caller's: closing
// the stream never closes fd 0, 1 or 2. When only a dup was possible its
// flags are restored on close. A descriptor that is not a terminal (stdout
// redirected to a pipe or a file) still works as a stream; only winsize() and
// set_raw_mode() need a terminal. Raw mode is undone on close. Throws TTYError.
#ifndef EVERGREEN_IO_TTY_H_
#define EVERGREEN_IO_TTY_H_

#include <termios.h>

#include <optional>

#include "evergreen/io/errors.h"
#include "evergreen/io/stream.h"

namespace evergreen::io {

struct WindowSize {
  int width = 0;   // columns
  int height = 0;  // rows
  friend bool operator==(const WindowSize&, const WindowSize&) = default;
};

class TTYStream : public BaseStream {
 public:
  // TTYStream()
  //
  // A stream on terminal `fd`; reads are allowed only when `readable`.
  // Throws TTYError if `fd` is not an open descriptor.
  TTYStream(int fd, bool readable);
  ~TTYStream() override;

  // TTYStream::winsize()
  //
  // The terminal's size in characters. Throws TTYError (ENOTTY) when the
  // descriptor is not a terminal.
  WindowSize winsize() const;

  // TTYStream::set_raw_mode()
  //
  // true: input is passed on byte by byte, unechoed, with no line editing or
  // signal keys, and output is not post-processed (cfmakeraw); false: the
  // terminal's mode from before. Throws TTYError (ENOTTY) when the descriptor
  // is not a terminal.
  void set_raw_mode(bool enable);

  // Whether reads are allowed; on a stream opened for writing only they
  // throw TTYError (EBADF).
  bool readable() const { return readable_; }

 protected:
  void on_close() override;

 private:
  void restore_terminal();

  bool readable_;
  bool is_terminal_ = false;
  std::optional<int> restore_flags_;   // set when the description is shared
  std::optional<termios> saved_mode_;  // set while raw
};

// The process's standard streams as cooperative streams.
class StdinStream : public TTYStream {
 public:
  StdinStream() : TTYStream(0, true) {}
};

class StdoutStream : public TTYStream {
 public:
  StdoutStream() : TTYStream(1, false) {}
};

class StderrStream : public TTYStream {
 public:
  StderrStream() : TTYStream(2, false) {}
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_TTY_H_
