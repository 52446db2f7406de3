#include "evergreen/io/pipe.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/socket_address.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::FdTraits;
using internal::SocketAddress;
using internal::UniqueFd;

namespace {

constexpr FdTraits kUnixStreamTraits{.socket = true, .stream_socket = true};
// How long a client waits before trying again when the server's backlog is
// full (a Unix socket says EAGAIN then, and offers nothing to poll for).
constexpr auto kBacklogRetry = std::chrono::milliseconds(1);

// Why the file at `path` (where bind() said EADDRINUSE) may not be replaced,
// or "" when it is a socket nobody listens on. A non-blocking connect tells
// without waiting: ECONNREFUSED means no listener; success or EAGAIN (a full
// backlog) mean a live server.
std::string why_not_stale(const std::string& path, const SocketAddress& address) {
  struct stat status;
  if (::lstat(path.c_str(), &status) != 0) return "";  // gone meanwhile: bind again
  if (!S_ISSOCK(status.st_mode)) return "the file there is not a socket, so it is not removed";
  UniqueFd probe;
  if (int error = internal::open_socket(AF_UNIX, SOCK_STREAM, &probe)) {
    return std::string("cannot probe the socket there: ") + strerror(error);
  }
  int error = internal::connect_socket(probe.get(), address);
  if (error == 0 || error == EAGAIN) return "a server is listening there";
  if (error == ECONNREFUSED) return "";
  return std::string("cannot probe the socket there: ") + strerror(error);
}

}  // namespace

// --- PipeConnection --------------------------------------------------------------

PipeConnection::PipeConnection(UniqueFd fd) : StreamConnection(ErrorKind::kPipe) {
  open_fd(std::move(fd), kUnixStreamTraits);
}

// --- PipeServer ----------------------------------------------------------------------

PipeServer::PipeServer() : PipeServer(nullptr) {}

PipeServer::PipeServer(ConnectionHandler handler)
    : StreamServer(ErrorKind::kPipe, std::move(handler)) {}

void PipeServer::bind(std::string_view path, StaleSocket stale) {
  std::string context = "cannot bind a pipe server to '" + std::string(path) + "'";
  if (closed()) raise_closed(context + ": the server is closed");
  if (bound()) raise(EINVAL, context + ": the server is already bound");
  std::optional<SocketAddress> address = internal::unix_address(path);
  if (!address) raise(path.empty() ? EINVAL : ENAMETOOLONG, context);
  UniqueFd fd;
  if (int error = internal::open_socket(AF_UNIX, SOCK_STREAM, &fd)) raise(error, context);
  const std::string path_string(path);
  if (const int error = internal::bind_socket(fd.get(), *address)) {
    if (error != EADDRINUSE || stale == StaleSocket::kRefuse) {
      raise(error, error == EADDRINUSE ? context +
                                             ": the path exists (StaleSocket::kReplace replaces "
                                             "a socket nobody listens on)"
                                       : context);
    }
    if (std::string why = why_not_stale(path_string, *address); !why.empty()) {
      raise(EADDRINUSE, context + ": " + why);
    }
    // Stale: remove it and bind once more. Should another process bind the
    // path in between, this bind() fails with EADDRINUSE, as it should.
    if (::unlink(path_string.c_str()) != 0 && errno != ENOENT) {
      raise(errno, context + ": cannot remove the stale socket");
    }
    if (int error = internal::bind_socket(fd.get(), *address)) raise(error, context);
  }
  set_listener(std::move(fd));
  path_ = path_string;
  remove_on_close(path_);
}

std::shared_ptr<StreamConnection> PipeServer::make_connection(UniqueFd fd) {
  return std::make_shared<PipeConnection>(std::move(fd));
}

std::string PipeServer::describe() const {
  return path_.empty() ? "pipe server" : "pipe server '" + path_ + "'";
}

// --- PipeClient ----------------------------------------------------------------------

PipeClient::PipeClient() : BaseStream(ErrorKind::kPipe) {}

void PipeClient::connect(std::string_view path) {
  std::string context = "cannot connect to pipe '" + std::string(path) + "'";
  check_not_closed("connect");
  if (has_fd()) raise(EISCONN, context + ": the client is already connected");
  std::optional<SocketAddress> address = internal::unix_address(path);
  if (!address) raise(path.empty() ? EINVAL : ENAMETOOLONG, context);
  UniqueFd fd;
  if (int error = internal::open_socket(AF_UNIX, SOCK_STREAM, &fd)) raise(error, context);
  internal::IoWatcher& readiness = watcher();
  // Unregisters the socket if this attempt fails (before the fd closes); a
  // destroyed client's watcher is gone and must not be touched.
  auto detach_on_failure = absl::MakeCleanup([&readiness] {
    if (readiness.attached()) readiness.detach();
  });
  for (;;) {
    int error = internal::connect_socket(fd.get(), *address);
    if (error == 0) break;
    if (error == EINTR) continue;
    if (error != EAGAIN) raise(error, context);
    // The server's backlog is full, and a Unix socket offers nothing to poll
    // for: try again shortly. Waiting on the watcher rather than sleep()
    // notices a client destroyed meanwhile without touching it.
    if (!readiness.attached()) readiness.attach(fd.get());
    internal::ErrorKind kind = error_kind();
    evergreen::internal::WaitLabel label("connect");
    if (readiness.wait_writable(kBacklogRetry) == internal::WaitResult::kDestroyed) {
      std::move(detach_on_failure).Cancel();
      internal::raise_closed_error(
          kind, "evergreen: " + context + ": the client was closed (destroyed) while connecting");
    }
    if (closed()) raise_closed_by_this_side(context + ": the client was closed while connecting");
  }
  std::move(detach_on_failure).Cancel();
  open_fd(std::move(fd), kUnixStreamTraits);
}

// --- PipeStream ------------------------------------------------------------------------

PipeStream::PipeStream() : BaseStream(ErrorKind::kPipe) {}

void PipeStream::open(int fd) {
  UniqueFd owned(fd);
  std::string context = "cannot open fd " + std::to_string(fd) + " as a pipe stream";
  check_not_closed("open");
  if (has_fd()) raise(EISCONN, context + ": the stream already has a descriptor");
  FdTraits traits;
  if (int error = internal::describe_fd(fd, &traits)) raise(error, context);
  if (int error = internal::set_nonblocking(fd, true)) raise(error, context);
  open_fd(std::move(owned), traits);
}

}  // namespace evergreen::io
