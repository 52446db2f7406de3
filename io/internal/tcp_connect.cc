#include "evergreen/io/internal/tcp_connect.h"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/resolve.h"
#include "evergreen/io/internal/ring_call.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io::internal {

UniqueFd connect_tcp(IoWatcher& watcher, const Address& target,
                     const std::optional<Address>& source, bool nodelay, ErrorKind kind,
                     const std::string& context, absl::AnyInvocable<bool()> closed) {
  if (target.host.empty()) {
    // The literal parser reads "" as 0.0.0.0 (right for bind), which Linux
    // connects to as a local address: "Connection refused" from a host the
    // caller never named.
    throw std::invalid_argument("evergreen: " + context +
                                ": the host is empty; name the server (a host name, or an IP "
                                "address such as 127.0.0.1)");
  }
  auto raise_destroyed = [&] {
    raise_closed_error(kind, "evergreen: " + context +
                                 ": the client was closed (destroyed) while connecting");
  };
  auto raise_closed = [&] {
    raise_closed_error(kind, "evergreen: " + context + ": the client was closed while connecting");
  };
  std::vector<SocketAddress> candidates;
  std::vector<SocketAddress> sources;
  {
    // Looking a name up blocks: the client may be closed or destroyed meanwhile.
    IoWatcher::Operation lookup(watcher);
    candidates = resolve_endpoint(target, kind, context);
    if (source) {
      sources = resolve_endpoint(*source, kind, context + " from " + source->to_string());
    }
    if (lookup.owner_destroyed()) raise_destroyed();
  }
  if (closed()) raise_closed();

  int last_error = EADDRNOTAVAIL;  // a name with no address at all
  for (const SocketAddress& candidate : candidates) {
    UniqueFd fd;
    if (int error = open_socket(candidate.family(), SOCK_STREAM, &fd)) {
      last_error = error;
      continue;
    }
    if (source) {
      const SocketAddress* local = nullptr;
      for (const SocketAddress& option : sources) {
        if (option.family() == candidate.family()) local = &option;
      }
      if (local == nullptr) {
        last_error = EAFNOSUPPORT;
        continue;
      }
      if (int error = bind_socket(fd.get(), *local, /*reuse_address=*/true)) {
        raise_error(kind, error,
                    "evergreen: " + context + ": cannot bind to " + source->to_string());
      }
    }
    if (nodelay) set_tcp_nodelay(fd.get(), true);
    if (evergreen::internal::Scheduler::current().performs_operations()) {
      // io_uring: the connect itself is a ring operation; the watcher joins
      // the loop for it and watches the socket once it is connected.
      watcher.join_loop_unwatched(fd.get());
      auto detach_on_failure = absl::MakeCleanup([&watcher] { watcher.detach(); });
      SocketAddress address = candidate;  // the kernel reads it until the completion
      RingOutcome outcome = perform_ring_call(
          watcher,
          {evergreen::internal::KernelOperation::Kind::kConnect, fd.get(), address.get(),
           static_cast<uint32_t>(address.length)},
          "connect");
      if (outcome.state == WaitResult::kDestroyed) {
        std::move(detach_on_failure).Cancel();
        raise_destroyed();
      }
      if (closed()) raise_closed();
      raise_if_interrupted(outcome);
      if (outcome.result != 0) {
        last_error = -outcome.result;
        continue;
      }
      watcher.attach(fd.get());
      std::move(detach_on_failure).Cancel();  // kept for the connection's life
      return fd;
    }
    int result;
    do {
      result = connect_socket(fd.get(), candidate);
    } while (result == EINTR);
    if (result != 0 && result != EINPROGRESS) {
      last_error = result;
      continue;
    }
    if (result != 0) {
      // In progress: the socket turns writable when the handshake ends, and
      // SO_ERROR says how it went. The watcher is attached here, once, and
      // kept for the connection's life.
      watcher.attach(fd.get());
      // A failed attempt leaves the registry before its fd closes; a
      // destroyed client's watcher is gone and must not be touched.
      auto detach_on_failure = absl::MakeCleanup([&watcher] { watcher.detach(); });
      int error = 0;
      for (;;) {
        error = pending_socket_error(fd.get());
        if (error != 0 || remote_address(fd.get()).port != 0) break;
        evergreen::internal::WaitLabel label("connect");
        if (watcher.wait_writable() == WaitResult::kDestroyed) {
          std::move(detach_on_failure).Cancel();
          raise_destroyed();
        }
        if (closed()) raise_closed();
      }
      if (error != 0) {
        last_error = error;
        continue;
      }
      std::move(detach_on_failure).Cancel();  // kept for the connection's life
    }
    return fd;
  }
  raise_error(kind, last_error, "evergreen: " + context);
}

}  // namespace evergreen::io::internal
