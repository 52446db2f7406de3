#include "evergreen/io/stream.h"

#include <re2/re2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/errno.h"
#include "evergreen/io/internal/ring_call.h"
#include "evergreen/io/internal/socket_address.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::RingOutcome;
using internal::WaitResult;
using Kind = evergreen::internal::KernelOperation::Kind;

namespace {

// The most room read_bytes() asks for: a large n reads in big chunks, but
// never allocates n bytes up front.
constexpr size_t kMaxReadRoom = 64 * 1024;
// How long serve() waits before accepting again when out of descriptors.
constexpr std::chrono::milliseconds kAcceptBackoff(20);
// Output capacity kept after a burst has been sent; beyond it is released.
constexpr size_t kKeptOutputCapacity = 64 * 1024;

std::string stream_name(ErrorKind kind) {
  std::string name = internal::kind_name(kind);
  return name.empty() ? "stream" : name + " stream";
}

[[noreturn]] void raise_destroyed(ErrorKind kind, const char* operation) {
  internal::raise_closed_error(kind, std::string("evergreen: ") + operation + ": the " +
                                         stream_name(kind) +
                                         " was closed (destroyed) while this task waited on it");
}

}  // namespace

// The compiled pattern of the last read_until_regex(), so a loop reading
// records with one pattern compiles it once.
struct BaseStream::RegexCache {
  std::string pattern;
  // Shared so a read blocked with it survives another task's new pattern.
  std::shared_ptr<const re2::RE2> regex;
};

// --- Lifetime -------------------------------------------------------------------

BaseStream::BaseStream(ErrorKind kind) : kind_(kind) {}

BaseStream::~BaseStream() {
  // Tasks still blocked here must not come back to this object once woken.
  watcher_.orphan_waiters();
  affinity_.bind_to_this_thread();  // a destructor must not throw: unchecked
  close();
}

void BaseStream::open_fd(internal::UniqueFd fd, const internal::FdTraits& traits) {
  check_not_closed("open");
  try {
    // A connecting client attached the watcher already, to wait on it.
    if (watcher_.attached() && watcher_.fd() == fd.get()) {
      watcher_.set_drain(this);
    } else {
      // Registered without input from the start when reads will wait in the
      // ring (below).
      if (transport_ == nullptr && traits.socket &&
          evergreen::internal::Scheduler::current().performs_operations()) {
        watcher_.reads_wait_in_ring();
      }
      watcher_.attach(fd.get(), this);
    }
  } catch (const std::system_error& error) {
    raise(error.code().value(), "cannot watch fd " + std::to_string(fd.get()));
  }
  fd_ = std::move(fd);
  traits_ = traits;
  // Sockets whose bytes are the descriptor's own: a transport (TLS) reads and
  // writes through OpenSSL, pipes and terminals have no recv/send.
  uses_ring_ = transport_ == nullptr && traits_.socket && watcher_.loop() != nullptr &&
               watcher_.loop()->performs_operations();
  if (uses_ring_) watcher_.reads_wait_in_ring();
  // Output written before the stream was connected.
  if (pending_output() > 0) {
    if (int error = drain_output()) fail(error, "write");
  }
  // A writer that found the buffer full before: it may write directly now.
  if (!output_room_.empty()) output_room_.notify_all();
}

void BaseStream::close() {
  if (closed_) return;
  affinity_.check_dynamic(this, "close");
  closed_ = true;
  watcher_.detach();  // wakes blocked tasks: they find the stream closed
  // So do writers waiting for their turn or for a connection.
  if (!write_turns_.empty()) write_turns_.notify_all();
  if (!output_room_.empty()) output_room_.notify_all();
  on_close();
  fd_.reset();
  input_.clear();
  std::string().swap(output_);
  output_sent_ = 0;
  regex_.reset();
}

// --- Errors ---------------------------------------------------------------------

void BaseStream::raise(int errno_value, const std::string& what) const {
  internal::raise_error(kind_, errno_value, "evergreen: " + what);
}

void BaseStream::raise_closed_by_this_side(const std::string& what) const {
  internal::raise_closed_error(kind_, "evergreen: " + what);
}

void BaseStream::raise_closed(const char* operation) const {
  if (error_ != 0) {
    raise(error_, std::string(operation) + ": the " + stream_name(kind_) + " was closed after " +
                      error_operation_ + " failed");
  }
  internal::raise_closed_error(
      kind_, "evergreen: " + std::string(operation) + " on a closed " + stream_name(kind_));
}

void BaseStream::check_not_closed(const char* operation) const {
  affinity_.check_dynamic(this, operation);
  if (closed_) raise_closed(operation);
}

void BaseStream::check_open(const char* operation) const {
  affinity_.check_dynamic(this, operation);
  if (closed_) raise_closed(operation);
  if (write_only_) {
    raise(EBADF,
          std::string(operation) + " on a " + stream_name(kind_) + " opened for writing only");
  }
  if (!fd_.valid()) {
    raise(ENOTCONN,
          std::string(operation) + " on a " + stream_name(kind_) + " that is not connected yet");
  }
}

void BaseStream::close_with_error(int error, const char* operation) {
  if (closed_) return;
  error_ = error;
  error_operation_ = operation;
  close();
}

void BaseStream::fail(int error, const char* operation) {
  // The transport's own account ("certificate verify failed") says more than
  // the errno it mapped the failure to; read it before close() drops it.
  std::string reason = transport_ != nullptr ? transport_->failure_reason() : std::string();
  close_with_error(error, operation);
  raise(error, std::string(operation) + " failed on a " + stream_name(kind_) +
                   (reason.empty() ? "" : ": " + reason));
}

// --- Reading --------------------------------------------------------------------

size_t BaseStream::fill(const char* operation, size_t wanted_room) {
  // A transport's read may need the descriptor writable first (a TLS key
  // update to send): then the read is retried once it is.
  bool retry_when_writable = false;
  for (;;) {
    if (watcher_.readable() || retry_when_writable) {
      retry_when_writable = false;
      size_t limit = max_buffer_size_ - std::min(max_buffer_size_, input_.size());
      if (limit == 0) {
        raise(ENOBUFS, std::string(operation) + ": the read buffer is full (max_buffer_size)");
      }
      size_t room = 0;
      char* tail = input_.prepare(std::min(wanted_room, limit), &room);
      room = std::min(room, limit);
      ssize_t count = transport_ != nullptr ? transport_->read(tail, room)
                                            : internal::read_some(fd_.get(), tail, room);
      if (count > 0) {
        input_.commit(static_cast<size_t>(count));
        // A stream socket fills a read from everything queued, so a short read
        // means the queue is empty now, and any later arrival raises a new
        // edge (a transport says so itself: drained()). Believing it saves the
        // read that would only say EAGAIN (one system call per message in a
        // request/response exchange). Not after the peer closed: that edge
        // has been seen already.
        bool queue_empty = transport_ != nullptr
                               ? transport_->drained()
                               : static_cast<size_t>(count) < room && traits_.stream_socket;
        if (queue_empty && !watcher_.peer_closed()) watcher_.clear_readable();
        return static_cast<size_t>(count);
      }
      if (count == 0) return 0;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(errno, operation);
      if (transport_ != nullptr && transport_->wants_write()) {
        watcher_.clear_writable();
        retry_when_writable = true;
      } else {
        watcher_.clear_readable();
      }
    }
    ErrorKind kind = kind_;
    if (uses_ring_) {
      if (std::optional<size_t> count = receive_on_ring(operation, wanted_room)) return *count;
      continue;
    }
    WaitResult woken = retry_when_writable ? watcher_.wait_writable(std::nullopt, operation)
                                           : watcher_.wait_readable(std::nullopt, operation);
    if (woken == WaitResult::kDestroyed) raise_destroyed(kind, operation);
    if (closed_) raise_closed(operation);
  }
}

std::optional<size_t> BaseStream::receive_on_ring(const char* operation, size_t wanted_room) {
  size_t limit = max_buffer_size_ - std::min(max_buffer_size_, input_.size());
  if (limit == 0) {
    raise(ENOBUFS, std::string(operation) + ": the read buffer is full (max_buffer_size)");
  }
  size_t room = 0;
  char* tail = input_.prepare(std::min(wanted_room, limit), &room);
  room = std::min({room, limit, internal::kMaxRingTransfer});
  ErrorKind kind = kind_;
  RingOutcome outcome = internal::perform_ring_call(
      watcher_, {Kind::kRecv, fd_.get(), tail, static_cast<uint32_t>(room)}, operation);
  if (outcome.state == WaitResult::kDestroyed) raise_destroyed(kind, operation);
  // close() waited for the call to end before it dropped the buffer.
  if (closed_) raise_closed(operation);
  if (outcome.result >= 0) {
    // Data that came with a kill or Timeout stays buffered; the delivery is
    // raised at the next suspension point.
    input_.commit(static_cast<size_t>(outcome.result));
    return static_cast<size_t>(outcome.result);
  }
  int error = -outcome.result;
  internal::raise_if_interrupted(outcome);
  // Cancelled (the fd was closed elsewhere, or an interruption the shield
  // held back): look again.
  if (error != ECANCELED && error != EINTR && error != EAGAIN) fail(error, operation);
  return std::nullopt;
}

std::string BaseStream::read_bytes(size_t n) {
  check_open("read_bytes");
  if (n == 0) return {};
  if (input_.empty() && fill("read_bytes", std::clamp(n, kMinReadRoom, kMaxReadRoom)) == 0) {
    return {};
  }
  return input_.take(std::min(n, input_.size()));
}

std::string BaseStream::read_until(std::string_view delimiter) {
  if (delimiter.empty()) {
    throw std::invalid_argument("evergreen: read_until() needs a non-empty delimiter");
  }
  check_open("read_until");
  size_t from = 0;
  for (;;) {
    size_t end = input_.find(delimiter, from);
    if (end != internal::ReadBuffer::npos) return input_.take(end);
    size_t size = input_.size();
    // A delimiter split across reads starts in the last size-1 bytes.
    from = size >= delimiter.size() ? size - delimiter.size() + 1 : 0;
    if (size >= max_buffer_size_) {
      raise(ENOBUFS, "read_until: no delimiter in the first " + std::to_string(size) +
                         " bytes (the stream's max_buffer_size)");
    }
    if (fill("read_until") == 0) return input_.take(input_.size());
  }
}

std::string BaseStream::read_until_regex(std::string_view pattern) {
  if (!regex_ || regex_->pattern != pattern) {
    re2::RE2::Options options;
    options.set_encoding(re2::RE2::Options::EncodingLatin1);
    options.set_log_errors(false);
    auto regex =
        std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!regex->ok()) {
      throw std::invalid_argument("evergreen: read_until_regex(): invalid pattern '" +
                                  std::string(pattern) + "': " + regex->error());
    }
    regex_ = std::make_unique<RegexCache>(RegexCache{std::string(pattern), std::move(regex)});
  }
  std::shared_ptr<const re2::RE2> regex = regex_->regex;
  check_open("read_until_regex");
  for (;;) {
    bool empty_match = false;
    size_t end = input_.find_regex(*regex, &empty_match);
    if (end != internal::ReadBuffer::npos) {
      if (empty_match) {
        throw std::invalid_argument("evergreen: read_until_regex(): pattern '" +
                                    std::string(pattern) + "' matched the empty string");
      }
      return input_.take(end);
    }
    if (input_.size() >= max_buffer_size_) {
      raise(ENOBUFS, "read_until_regex: no match in the first " + std::to_string(input_.size()) +
                         " bytes (the stream's max_buffer_size)");
    }
    if (fill("read_until_regex") == 0) return input_.take(input_.size());
  }
}

// --- Writing --------------------------------------------------------------------
//
// One write() at a time buffers output: the one holding the write turn. Later
// writers wait for it in FIFO order, so the bytes of one write() stay
// contiguous in the stream. The holder buffers only while fewer than
// write_high_water() bytes are pending, and waits for the peer to drain before
// it buffers more: neither many writers nor writes interrupted half way (each
// leaving what it buffered behind) can take the buffer past the mark. A write
// that finds the turn free and nothing pending goes straight to the kernel.

// The right to buffer output, held by one write() at a time and handed to the
// longest-waiting writer when released. Tracks the stream's destruction: a
// writer that was waiting must then leave without touching it.
class BaseStream::WriteTurn {
 public:
  WriteTurn(BaseStream& stream, const char* operation)
      : stream_(stream), lifetime_(stream.watcher_) {
    if (!stream.write_turn_taken_) {
      stream.write_turn_taken_ = true;
      return;
    }
    // Set by the writer that hands the turn over; close() wakes us without it.
    bool handed = false;
    ErrorKind kind = stream.kind_;
    stream.write_turns_.wait(operation, std::nullopt, &handed);
    if (lifetime_.owner_destroyed()) raise_destroyed(kind, operation);
    if (!handed) stream.raise_closed(operation);
  }

  ~WriteTurn() {
    if (stream_destroyed()) return;
    evergreen::internal::WaitQueue& waiting = stream_.write_turns_;
    if (evergreen::internal::WaitQueue::Waiter* next = waiting.front()) {
      *static_cast<bool*>(next->data) = true;  // it owns the turn now
      waiting.notify(next);
    } else {
      stream_.write_turn_taken_ = false;
    }
  }

  WriteTurn(const WriteTurn&) = delete;
  WriteTurn& operator=(const WriteTurn&) = delete;

  bool stream_destroyed() const { return lifetime_.owner_destroyed(); }

 private:
  BaseStream& stream_;
  internal::IoWatcher::Operation lifetime_;
};

bool BaseStream::write(std::string_view data) {
  size_t accepted = 0;
  return write(data, accepted);
}

bool BaseStream::write(std::string_view data, size_t& accepted) {
  accepted = 0;
  check_writable();
  if (data.empty()) return !fd_.valid() || pending_output() == 0;
  if (!write_turn_taken_ && fd_.valid() && pending_output() == 0 && !sends_through_ring()) {
    // Nobody is writing and nothing is queued: hand the data to the kernel
    // directly, no copy. (A ring send parks the writer, so it takes the turn
    // first: write_in_turn().)
    send_directly(data, accepted);
    if (accepted == data.size()) return true;
  }
  return write_in_turn(data, accepted);
}

void BaseStream::check_writable() const {
  check_not_closed("write");
  if (write_shut_) raise(EPIPE, "write after shutdown() on a " + stream_name(kind_));
}

void BaseStream::send_directly(std::string_view data, size_t& accepted) {
  while (accepted < data.size() && watcher_.writable()) {
    ssize_t count = send_some(data.data() + accepted, data.size() - accepted);
    if (count >= 0) {
      accepted += static_cast<size_t>(count);
      // A partial write means the kernel buffer is full: wait for an edge
      // (descriptors that cannot be polled never fill, so they go on). A
      // transport writes one record per call and says EAGAIN itself.
      if (accepted < data.size() && transport_ == nullptr) watcher_.clear_writable();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(errno, "write");
    watcher_.clear_writable();
  }
}

bool BaseStream::write_in_turn(std::string_view data, size_t& accepted) {
  WriteTurn turn(*this, "write");
  bool buffered = false;
  for (;;) {
    check_writable();  // waiting may have let another task close or shut it down
    if (fd_.valid() && pending_output() == 0) {
      if (sends_through_ring()) {
        send_now_on_ring(data, accepted);
      } else {
        send_directly(data, accepted);
      }
    }
    if (accepted == data.size()) return !buffered;
    size_t pending = pending_output();
    // Not while a ring send reads from the buffer: appending may move it.
    if (pending < write_high_water_ && !ring_send_in_flight_) {
      size_t piece = std::min(write_high_water_ - pending, data.size() - accepted);
      output_.append(data.substr(accepted, piece));
      accepted += piece;
      buffered = true;
      continue;
    }
    wait_for_output_room(turn);
  }
}

void BaseStream::wait_for_output_room(const WriteTurn& turn) {
  ErrorKind kind = kind_;
  evergreen::internal::WaitLabel label("write");
  if (!fd_.valid()) {
    // Not connected yet: room comes with the connection (open_fd()), a
    // higher mark, or close().
    output_room_.wait(nullptr);
    if (turn.stream_destroyed()) raise_destroyed(kind, "write");
    return;
  }
  if (watcher_.writable() && !ring_send_in_flight_) {
    if (int error = drain_output()) fail(error, "write");
    if (pending_output() < write_high_water_) return;
  }
  if (uses_ring_ && !ring_send_in_flight_ && pending_output() > 0) {
    send_on_ring("write");
    return;
  }
  // Woken after the loop drained the buffer into the kernel (on_writable()),
  // or after another task's ring send.
  if (watcher_.wait_writable() == WaitResult::kDestroyed) raise_destroyed(kind, "write");
}

RingOutcome BaseStream::perform_ring_send(bool send_now, const char* data, size_t size,
                                          const char* operation) {
  ErrorKind error_kind = kind_;
  ring_send_in_flight_ = true;
  RingOutcome outcome;
  try {
    outcome = internal::perform_ring_call(
        watcher_,
        {send_now ? Kind::kSendNow : Kind::kSend, fd_.get(), const_cast<char*>(data),
         static_cast<uint32_t>(std::min(size, internal::kMaxRingTransfer))},
        operation);
  } catch (...) {
    ring_send_in_flight_ = false;  // nothing was sent, or the call ended
    throw;
  }
  // The stream may be gone: nothing of it is touched before this check.
  if (outcome.state == WaitResult::kDestroyed) raise_destroyed(error_kind, operation);
  ring_send_in_flight_ = false;
  // Whoever waits for room or a flush looks again.
  watcher_.notify_writers();
  // close() waited for the send to end before it dropped the buffer.
  if (closed_) raise_closed(operation);
  return outcome;
}

void BaseStream::send_on_ring(const char* operation) {
  RingOutcome outcome = perform_ring_send(/*send_now=*/false, output_.data() + output_sent_,
                                          pending_output(), operation);
  if (outcome.result > 0) {
    // Bytes sent before a kill or Timeout count: the peer gets them.
    output_sent_ += static_cast<size_t>(outcome.result);
    if (int error = drain_output()) fail(error, operation);
  }
  internal::raise_if_interrupted(outcome);
  int error = outcome.result < 0 ? -outcome.result : 0;
  if (error != 0 && error != ECANCELED && error != EINTR && error != EAGAIN) fail(error, operation);
}

bool BaseStream::sends_through_ring() const {
  if (!uses_ring_ || ring_send_in_flight_ || !watcher_.writable()) return false;
  const evergreen::internal::BlockingContext* self = evergreen::internal::current_context_or_null();
  return self != nullptr && self->task != nullptr && self->pending == nullptr &&
         self->loop == watcher_.loop();
}

void BaseStream::send_now_on_ring(std::string_view data, size_t& accepted) {
  // The kernel reads the caller's own data: the caller stays parked in
  // perform_ring_call() until the send has completed (a kill, a Timeout or
  // close() cancel it and wait for that too), so no copy is needed.
  RingOutcome outcome =
      perform_ring_send(/*send_now=*/true, data.data() + accepted, data.size() - accepted, "write");
  int error = outcome.result < 0 ? -outcome.result : 0;
  if (outcome.result > 0) {
    accepted += static_cast<size_t>(outcome.result);
    // Less than offered: the socket buffer is full; its next edge says when
    // there is room (as send_directly() reads a partial write).
    if (accepted < data.size()) watcher_.clear_writable();
  } else if (error == EAGAIN || error == EWOULDBLOCK) {
    watcher_.clear_writable();
  }
  internal::raise_if_interrupted(outcome);
  if (error != 0 && error != ECANCELED && error != EINTR && error != EAGAIN &&
      error != EWOULDBLOCK) {
    fail(error, "write");
  }
}

void BaseStream::set_write_high_water(size_t bytes) {
  write_high_water_ = bytes;
  // A writer waiting for room may have some now (one waiting in a ring send
  // looks again once the send ends).
  if (ring_send_in_flight_) watcher_.interrupt_ring_calls();
  watcher_.notify_writers();
  if (!output_room_.empty()) output_room_.notify_all();
}

ssize_t BaseStream::send_some(const char* data, size_t size) {
  if (transport_ != nullptr) return transport_->write(data, size);
  return internal::write_some(fd_.get(), data, size, traits_.socket);
}

int BaseStream::drain_output() {
  // A ring send reads from the buffer; it drains when it completes.
  if (ring_send_in_flight_) return 0;
  // What the transport held back goes first (its write() would send it first
  // anyway); with nothing buffered here it is all that is left to send.
  if (output_sent_ == output_.size() && transport_ != nullptr && transport_->holds_output() &&
      watcher_.writable()) {
    if (transport_->flush_held() != 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return errno;
      watcher_.clear_writable();
    }
  }
  while (output_sent_ < output_.size() && watcher_.writable()) {
    ssize_t count = send_some(output_.data() + output_sent_, output_.size() - output_sent_);
    if (count >= 0) {
      output_sent_ += static_cast<size_t>(count);
      if (output_sent_ < output_.size() && transport_ == nullptr) watcher_.clear_writable();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno;
    watcher_.clear_writable();
  }
  if (output_sent_ == output_.size()) {
    if (output_.capacity() > kKeptOutputCapacity) {
      std::string().swap(output_);
    } else {
      output_.clear();
    }
    output_sent_ = 0;
  } else if (output_sent_ >= kKeptOutputCapacity && output_sent_ * 2 >= output_.size()) {
    // Most of the buffer has been sent: drop it rather than let it grow.
    output_.erase(0, output_sent_);
    output_sent_ = 0;
  }
  return 0;
}

void BaseStream::on_writable() {
  if (closed_ || !output_in_flight()) return;
  if (int error = drain_output()) close_with_error(error, "write");
}

void BaseStream::wait_output_below(size_t limit, const char* operation) {
  // Flushing (limit 0) also waits for what the transport held back.
  while (pending_output() > limit || (limit == 0 && output_in_flight())) {
    if (watcher_.writable() && !ring_send_in_flight_) {
      if (int error = drain_output()) fail(error, operation);
      continue;
    }
    if (uses_ring_ && !ring_send_in_flight_) {
      send_on_ring(operation);
      continue;
    }
    ErrorKind kind = kind_;
    evergreen::internal::WaitLabel label(operation);
    if (watcher_.wait_writable() == WaitResult::kDestroyed) raise_destroyed(kind, operation);
    if (closed_) raise_closed(operation);
  }
}

void BaseStream::flush() {
  check_not_closed("flush");
  if (!output_in_flight()) return;
  if (!fd_.valid()) {
    raise(ENOTCONN, "flush on a " + stream_name(kind_) + " that is not connected yet");
  }
  wait_output_below(0, "flush");
}

void BaseStream::shutdown() {
  flush();
  if (write_shut_) return;
  check_open("shutdown");
  write_shut_ = true;
  if (transport_ != nullptr) {
    // The transport's farewell (a TLS close_notify) may have to wait for room;
    // it never waits for the peer's answer.
    while (transport_->shutdown_writes() != 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(errno, "shutdown");
      watcher_.clear_writable();
      ErrorKind kind = kind_;
      if (watcher_.wait_writable() == WaitResult::kDestroyed) raise_destroyed(kind, "shutdown");
      if (closed_) raise_closed("shutdown");
    }
  } else if (traits_.socket) {
    int error = internal::shut_down_writes(fd_.get());
    if (error != 0 && error != ENOTCONN) fail(error, "shutdown");
  }
}

// --- StreamConnection -------------------------------------------------------------

StreamConnection::~StreamConnection() { unlink(); }

Address StreamConnection::sockname() const { return address_of_end(false, "sockname"); }

Address StreamConnection::peername() const { return address_of_end(true, "peername"); }

Address StreamConnection::address_of_end(bool remote, const char* operation) const {
  check_not_closed(operation);
  internal::SocketAddress address;
  address.length = sizeof address.storage;
  int result = remote ? ::getpeername(fileno(), address.get(), &address.length)
                      : ::getsockname(fileno(), address.get(), &address.length);
  if (result != 0) raise(errno, std::string(operation) + " failed on a connection");
  return internal::to_address(address.get(), address.length);
}

void StreamConnection::unlink() {
  StreamServer* server = server_;
  if (server == nullptr) return;
  server->connections_.remove(this);
  server_ = nullptr;
  --server->connection_count_;
}

// --- StreamServer -------------------------------------------------------------------

StreamServer::StreamServer(ErrorKind kind, ConnectionHandler handler)
    : kind_(kind), handler_(std::move(handler)) {}

StreamServer::~StreamServer() {
  // serve() still blocked must return without touching this object.
  watcher_.orphan_waiters();
  affinity_.bind_to_this_thread();  // a destructor must not throw: unchecked
  close();
}

void StreamServer::raise(int errno_value, const std::string& what) const {
  internal::raise_error(kind_, errno_value, "evergreen: " + what);
}

void StreamServer::raise_closed(const std::string& what) const {
  internal::raise_closed_error(kind_, "evergreen: " + what);
}

void StreamServer::set_listener(internal::UniqueFd fd) {
  check_thread("bind");
  if (closed_) raise_closed("bind on a closed " + describe());
  if (listener_.valid()) raise(EINVAL, "bind: the " + describe() + " is already bound");
  // Listen at once, so clients may connect as soon as bind() returns (they
  // wait in the backlog until serve() accepts them); serve() sets its backlog.
  if (int error = internal::listen_on(fd.get(), kDefaultBacklog)) {
    raise(error, "cannot listen on " + internal::local_address(fd.get()).to_string());
  }
  try {
    watcher_.attach(fd.get());
  } catch (const std::system_error& error) {
    raise(error.code().value(), "cannot watch the listening socket");
  }
  listener_ = std::move(fd);
  was_bound_ = true;
}

void StreamServer::serve(int backlog) {
  check_thread("serve");
  if (closed_ && was_bound_) return;  // closed before this call got to run
  if (closed_) raise_closed("serve on a closed " + describe());
  if (!listener_.valid()) raise(EDESTADDRREQ, "serve() called before bind()");
  if (serving_) raise(EALREADY, "serve() is already running on the " + describe());
  if (backlog != kDefaultBacklog) {
    if (int error = internal::listen_on(listener_.get(), backlog)) {
      raise(error, "cannot listen on " + describe());
    }
  }
  serving_ = true;
  // Cleared however serve() leaves, unless the server is gone by then.
  bool destroyed = false;
  absl::Cleanup not_serving = [this, &destroyed] {
    if (!destroyed) serving_ = false;
  };

  for (;;) {
    std::optional<Duration> backoff;
    while (watcher_.readable()) {
      internal::UniqueFd accepted;
      int error = internal::accept_connection(listener_.get(), &accepted);
      if (error == 0) {
        starvation_reported_ = false;
        on_accepted(std::move(accepted));
        continue;
      }
      if (error == EAGAIN || error == EWOULDBLOCK) {
        watcher_.clear_readable();
      } else if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        // Out of descriptors or memory: accepting again at once would spin.
        // Pending connections wait in the backlog until some close.
        backoff = kAcceptBackoff;
        if (!starvation_reported_) report_accept_starvation(error);
        break;
      } else if (error != EINTR && error != ECONNABORTED && error != EPROTO && error != EPERM) {
        raise(error, "accept failed on " + describe());
      }
    }
    if (!backoff && watcher_.loop() != nullptr && watcher_.loop()->performs_operations()) {
      // io_uring: the accept itself waits in the ring.
      if (!accept_on_ring()) {
        destroyed = true;
        return;
      }
      if (closed_) return;
      continue;
    }
    evergreen::internal::WaitLabel label("accept");
    if (watcher_.wait_readable(backoff) == WaitResult::kDestroyed) {
      destroyed = true;
      return;
    }
    if (closed_) return;
  }
}

bool StreamServer::accept_on_ring() {
  RingOutcome outcome = internal::perform_ring_call(
      watcher_, {Kind::kAccept, listener_.get(), nullptr, 0}, "accept");
  // A connection accepted as a kill or Timeout arrived, or as the server
  // closed, is served or closed: never leaked.
  internal::UniqueFd accepted(outcome.result >= 0 ? outcome.result : -1);
  if (outcome.state == WaitResult::kDestroyed) return false;
  if (closed_) return true;
  if (accepted.valid()) {
    starvation_reported_ = false;
    on_accepted(std::move(accepted));
  }
  internal::raise_if_interrupted(outcome);
  int error = outcome.result < 0 ? -outcome.result : 0;
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
    // Out of descriptors or memory: wait before the next try (serve()'s
    // readiness path does the same), the connections waiting in the backlog.
    if (!starvation_reported_) report_accept_starvation(error);
    evergreen::internal::WaitLabel label("accept");
    if (watcher_.wait_readable(kAcceptBackoff) == WaitResult::kDestroyed) return false;
  } else if (error != 0 && error != EINTR && error != ECANCELED && error != EAGAIN &&
             error != ECONNABORTED && error != EPROTO && error != EPERM) {
    raise(error, "accept failed on " + describe());
  }
  return true;
}

void StreamServer::report_accept_starvation(int error) {
  starvation_reported_ = true;
  evergreen::internal::report_message(
      describe() + ": accept failed with " + errno_name(error) + " (" + io::strerror(error) +
      "); connections wait in the backlog and accept is retried every " +
      std::to_string(kAcceptBackoff.count()) +
      " ms (reported once until an accept succeeds again)");
}

void StreamServer::start_connection(internal::UniqueFd fd) {
  std::shared_ptr<StreamConnection> connection;
  try {
    connection = make_connection(std::move(fd));
  } catch (const std::system_error&) {
    return;  // could not be set up (the loop refused it): drop it
  }
  connection->server_ = this;
  connections_.push_back(connection.get());
  ++connection_count_;
  spawn(&StreamServer::run_handler, std::move(connection));
}

bool StreamServer::prepare_connection(StreamConnection&) { return true; }

void StreamServer::run_handler(std::shared_ptr<StreamConnection> connection) {
  StreamServer* server = connection->server();
  if (server == nullptr) return;  // closed before this task began
  try {
    if (!server->prepare_connection(*connection)) {
      connection->close();
      return;
    }
  } catch (const StreamError&) {
    // A connection that could not be set up (a failed TLS handshake) is the
    // client's failure, not the server's: it is dropped, and only it.
    connection->close();
    return;
  }
  // The server may have closed (and gone) while the connection was prepared.
  server = connection->server();
  if (server == nullptr) return;
  try {
    server->handle_connection(connection);
    // The server is gone from the connection if it closed meanwhile (and may
    // be destroyed): only a connection still served lingers.
    if (StreamServer* owner = connection->server()) {
      // Another holder keeps the connection open and sends what is left.
      if (connection.use_count() == 1) finish_connection(*connection, owner->linger_);
    }
  } catch (const StreamError&) {
    // The client went away or the server closed: that ends the connection,
    // and is no failure of the handler.
    if (!connection->closed()) throw;
  }
}

void StreamServer::finish_connection(StreamConnection& connection,
                                     std::optional<Duration> linger_time) {
  // A reply written just before the handler returned may still be buffered:
  // deliver it before the connection is released (and closed), but only for
  // so long, or a client that never reads would keep the buffer forever.
  if (connection.closed() || connection.pending_output() == 0) return;
  if (!linger_time || *linger_time > Duration::zero()) {
    Timeout deadline(linger_time);
    try {
      connection.flush();
      return;
    } catch (const Timeout& fired) {
      if (!fired.is(deadline)) throw;
    }
  }
  // Reset rather than close gracefully: a graceful close would leave the
  // unsent bytes queued in the kernel for a client that does not read them.
  internal::reset_on_close(connection.fileno());
  connection.close();
}

void StreamServer::set_linger(std::optional<Duration> linger) {
  if (linger && *linger < Duration::zero()) {
    throw std::invalid_argument("evergreen: set_linger() on the " + describe() +
                                ": the linger time must not be negative");
  }
  linger_ = linger;
}

void StreamServer::handle_connection(std::shared_ptr<StreamConnection> connection) {
  if (handler_) {
    handler_(std::move(connection));
  } else {
    connection->close();
  }
}

void StreamServer::close() {
  if (closed_) return;
  check_thread("close");
  closed_ = true;
  watcher_.detach();  // serve() wakes and returns
  listener_.reset();
  if (!remove_on_close_.empty()) ::unlink(remove_on_close_.c_str());
  while (StreamConnection* connection = connections_.front()) {
    connection->unlink();
    connection->close();
  }
}

std::vector<std::shared_ptr<StreamConnection>> StreamServer::connections() const {
  check_thread("connections");
  std::vector<std::shared_ptr<StreamConnection>> result;
  result.reserve(connection_count_);
  for (StreamConnection* connection = connections_.front(); connection != nullptr;
       connection = evergreen::internal::IntrusiveList<StreamConnection>::next(connection)) {
    if (auto shared = connection->weak_from_this().lock()) result.push_back(std::move(shared));
  }
  return result;
}

}  // namespace evergreen::io
