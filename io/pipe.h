// evergreen/io/pipe.h
//
// Cooperative pipes: Unix-domain stream sockets named by a path (the seed's
// "named pipes"), and PipeStream, which makes any descriptor that can be
// polled (a pipe, a FIFO, a socket, a character device) a stream. All are
// streams (evergreen/io/stream.h) and throw PipeError.
//
//   io::PipeServer server(handler);
//   server.bind("/tmp/app.sock");
//   spawn([&] { server.serve(); });
//   io::PipeClient client;
//   client.connect("/tmp/app.sock");
#ifndef EVERGREEN_IO_PIPE_H_
#define EVERGREEN_IO_PIPE_H_

#include <memory>
#include <string>
#include <string_view>

#include "evergreen/io/errors.h"
#include "evergreen/io/stream.h"

namespace evergreen::io {

// PipeConnection
//
// A connection accepted by a PipeServer.
class PipeConnection : public StreamConnection {
 public:
  // Wraps an accepted, non-blocking socket (the server does this).
  explicit PipeConnection(internal::UniqueFd fd);
};

// What PipeServer::bind() does when a socket file is already at its path.
enum class StaleSocket {
  // Refuse with EADDRINUSE (the default: nothing is removed behind your back).
  kRefuse,
  // Remove it when it is a socket nobody listens on (left by a process that
  // crashed before close()), then bind. A socket a live server listens on, or
  // a file that is not a socket, is still refused with EADDRINUSE.
  kReplace,
};

// PipeServer
//
// Listens on a Unix-domain socket path. Subclass it and override
// handle_connection(), or give the constructor a handler.
class PipeServer : public StreamServer {
 public:
  PipeServer();
  explicit PipeServer(ConnectionHandler handler);

  // PipeServer::bind()
  //
  // Creates the socket file at `path` and starts listening (clients may
  // connect at once and wait until serve() accepts them). Throws PipeError:
  // EADDRINUSE when the path exists (with StaleSocket::kReplace, unless it is
  // a socket nobody listens on, which is then replaced), ENAMETOOLONG for a
  // path the kernel cannot hold (107 bytes), or the errno bind() gives.
  // close() removes the file again.
  void bind(std::string_view path, StaleSocket stale = StaleSocket::kRefuse);

  // The path given to bind() ("" before).
  std::string pipename() const { return path_; }

 protected:
  std::shared_ptr<StreamConnection> make_connection(internal::UniqueFd fd) override;
  std::string describe() const override;

 private:
  std::string path_;
};

// PipeClient
//
// An outgoing connection to a PipeServer (any listening Unix socket).
class PipeClient : public BaseStream {
 public:
  PipeClient();

  // PipeClient::connect()
  //
  // Connects to the socket at `path`, blocking the caller while the server's
  // backlog is full. Honours Timeout and kill. Throws PipeError naming the
  // path: ENOENT when nothing is there, ECONNREFUSED when nobody listens,
  // ENAMETOOLONG, EISCONN when already connected, EBADF after close().
  void connect(std::string_view path);
};

// PipeStream
//
// A stream over a descriptor you already have: one end of pipe(2), a FIFO, a
// socketpair(2) end, a terminal, /dev/net/tun...
class PipeStream : public BaseStream {
 public:
  PipeStream();

  // PipeStream::open()
  //
  // Takes ownership of `fd` (it is closed with the stream, even when open()
  // throws) and makes it non-blocking. Throws PipeError: EBADF for a descriptor
  // that is not open, EISCONN when the stream already has one.
  void open(int fd);
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_PIPE_H_
