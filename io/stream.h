// evergreen/io/stream.h
//
// Cooperative byte streams and the servers that accept them.
//
//   class EchoServer : public io::TCPServer {
//     void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
//       for (;;) {
//         std::string line = connection->read_until("\n");   // blocks this task only
//         if (line.empty()) break;                            // the client closed
//         connection->write(line);
//       }
//     }
//   };
//
// BaseStream is what TCP connections, pipes (Unix sockets), TTYs and TLS
// streams (evergreen/io/tls.h, whose bytes go through a StreamTransport) share:
// - Reads are buffered. read_until() and read_until_regex() find their
//   delimiter across the boundaries of the packets that brought the data,
//   return everything up to and including it, and keep the rest for the next
//   read. At end of stream reads return "" (once the buffer is used up).
// - The read buffer never grows past max_buffer_size(): a "line" longer than
//   that is an error, not unbounded memory.
// - write() never loses data: what the kernel does not take at once is kept
//   and sent by the loop as the peer drains it, whether or not a task waits.
//   flush() waits for it.
// - Write back-pressure is a bound: write() buffers only while fewer than
//   write_high_water() bytes are pending, and otherwise blocks until the peer
//   catches up, so pending_output() never exceeds the mark (however many
//   tasks write, however often a write is interrupted, connected or not), and
//   a reader that never reads cannot grow memory.
// - Writers take turns in the order they called write(): the bytes of one
//   write() reach the stream whole, never interleaved with another task's.
// - An I/O error (a reset, a broken pipe) closes the stream; the operation
//   that met it throws, and every later one throws the same error.
// - Operations on a closed stream throw the stream's error type (TCPError,
//   PipeError, TTYError, TLSError; all StreamError); close() wakes every task blocked on
//   the stream with that error.
// - Blocking calls block only the calling task (or the thread's main
//   context) and raise a kill or Timeout delivered meanwhile; what a read had
//   received by then stays buffered for the next read.
// - A peer that closed never kills the process with SIGPIPE.
// - A destructor that flushes or closes a stream with a blocking call (RAII
//   cleanup) must do so inside a CancellationShield (evergreen/loop/shield.h):
//   a kill or Timeout raised by that call while the task unwinds would escape
//   the destructor, and an exception escaping a destructor during unwinding
//   calls std::terminate. Inside the shield the flush completes and the kill
//   or Timeout is raised after it.
// - Destroying a stream wakes the tasks blocked on it with the stream's error
//   (EBADF), even those woken by a close() just before that have not run yet:
//   none of them touches the destroyed object.
// - Streams and servers are single-loop objects: each belongs to the thread
//   that first uses it (normally the one that opens it), and a member called
//   from another thread throws std::logic_error naming the object and both
//   threads (builds without NDEBUG). They are not thread-safe.
#ifndef EVERGREEN_IO_STREAM_H_
#define EVERGREEN_IO_STREAM_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "evergreen/io/address.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/io_watcher.h"
#include "evergreen/io/internal/raise.h"
#include "evergreen/io/internal/read_buffer.h"
#include "evergreen/io/internal/stream_transport.h"
#include "evergreen/io/internal/unique_fd.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen::io {

class StreamServer;
namespace internal {
struct RingOutcome;  // io/internal/ring_call.h
}  // namespace internal

class BaseStream : private internal::IoWatcher::WriteDrain {
 public:
  // Defaults: 8 MiB of unread input, 1 MiB of unsent output.
  static constexpr size_t kDefaultMaxBufferSize = 8u << 20;
  static constexpr size_t kDefaultWriteHighWater = 1u << 20;
  // The least room a read is offered; the buffer's free tail is often larger.
  static constexpr size_t kMinReadRoom = 4096;

  // Closes the stream (unsent output is dropped, as with close()).
  ~BaseStream() override;
  BaseStream(const BaseStream&) = delete;
  BaseStream& operator=(const BaseStream&) = delete;

  // BaseStream::closed()
  //
  // True after close() (or an I/O error that closed the stream). A stream not
  // yet connected or opened is not closed.
  bool closed() const { return closed_; }

  // BaseStream::read_bytes()
  //
  // Returns at most `n` bytes: what is buffered, or else what one read of the
  // descriptor brings. Blocks until some data or end of stream arrives;
  // returns "" at end of stream (or for n == 0). Throws the stream's error
  // when it is closed, not yet connected, or the read fails.
  std::string read_bytes(size_t n);

  // BaseStream::read_until()
  //
  // Returns the data up to and including the first `delimiter`, blocking until
  // it arrives. At end of stream returns what is left without a delimiter (""
  // when nothing is), like a file's last line: check ends_with(delimiter) to
  // tell a truncated record. Throws the stream's error (ENOBUFS) when
  // max_buffer_size() bytes arrive without a delimiter, and as read_bytes()
  // does; std::invalid_argument for an empty delimiter.
  std::string read_until(std::string_view delimiter);

  // BaseStream::read_until_regex()
  //
  // Like read_until(), up to and including the leftmost match of the RE2
  // `pattern` (linear-time matching; every byte is one character, Latin-1).
  // A match that could grow with more input is cut where the data ends: use
  // patterns that end with a fixed token. Throws std::invalid_argument for a
  // pattern RE2 rejects or one that matches the empty string.
  std::string read_until_regex(std::string_view pattern);

  // BaseStream::write()
  //
  // Sends `data`. Returns true when the kernel took all of it at once, false
  // when some is buffered to be sent as the peer drains it (or, on a stream
  // not yet connected or opened, once it is). Blocks while another task's
  // write() is in progress on the stream (writers are served in the order they
  // came), and while write_high_water() bytes are buffered: a write larger
  // than the room left is taken piece by piece as the peer drains. Before
  // connect() the same bound holds; what does not fit waits for the
  // connection. A kill or Timeout interrupts the wait: what was taken by then
  // is sent, the rest is not (the overload below says how much was taken).
  // Throws the stream's error when the stream is closed (also while waiting),
  // after shutdown() (EPIPE), or when the write fails (which closes the
  // stream).
  bool write(std::string_view data);

  // BaseStream::write(data, accepted)
  //
  // The same, and `accepted` counts the bytes of `data` the stream has taken
  // (handed to the kernel or buffered to be sent). It is kept current while
  // the write proceeds, so after a kill or Timeout it tells exactly which
  // prefix of `data` the peer will get, and a retry can send the rest:
  //
  //   size_t taken = 0;
  //   try {
  //     Timeout deadline(100ms);
  //     stream.write(data, taken);
  //   } catch (const Timeout&) {
  //     data.remove_prefix(taken);  // what is left to send later
  //   }
  //
  // After a stream error the stream is closed and buffered output dropped,
  // so what was taken may not arrive.
  bool write(std::string_view data, size_t& accepted);

  // BaseStream::flush()
  //
  // Blocks until every buffered byte has been handed to the kernel. Throws as
  // write() does, and ENOTCONN on a client that never connected.
  void flush();

  // BaseStream::shutdown()
  //
  // flush(), then closes the write side (the peer reads end of stream); reads
  // still work. On a descriptor that is not a socket, only flushes.
  void shutdown();

  // BaseStream::close()
  //
  // Closes the descriptor. Buffered input and unsent output are dropped;
  // tasks blocked on the stream wake with the stream's error (EBADF). Closing
  // twice does nothing. Never throws and never parks the caller; on the
  // io_uring backend, with a receive or send in flight, it cancels it and
  // waits (one system call, no task switch) for the kernel to let go of the
  // buffer before the descriptor is closed.
  void close();

  // The descriptor, or -1 before it is opened and after close().
  int fileno() const { return fd_.get(); }

  // The most unread input kept; reads past it fail with ENOBUFS.
  size_t max_buffer_size() const { return max_buffer_size_; }
  void set_max_buffer_size(size_t bytes) { max_buffer_size_ = bytes == 0 ? 1 : bytes; }
  // The most unsent output write() buffers; a write that finds this much
  // pending blocks until the peer drains some. 0: every write waits until the
  // kernel has taken all of it. Raising it wakes a writer waiting for room.
  size_t write_high_water() const { return write_high_water_; }
  void set_write_high_water(size_t bytes);
  // Bytes buffered by write() and not yet handed to the kernel; at most
  // write_high_water() unless the mark was lowered since they were buffered.
  size_t pending_output() const { return output_.size() - output_sent_; }

 protected:
  explicit BaseStream(internal::ErrorKind kind);

  // Starts I/O on `fd`, which the stream now owns and which must already be
  // non-blocking: registers it with this thread's loop and sends output
  // written before. Throws the stream's error if the loop refuses it.
  void open_fd(internal::UniqueFd fd, const internal::FdTraits& traits);
  bool has_fd() const { return fd_.valid(); }
  internal::ErrorKind error_kind() const { return kind_; }
  // Throws the stream's error type: "evergreen: <what>: <strerror>".
  [[noreturn]] void raise(int errno_value, const std::string& what) const;
  // Throws the stream's error for an operation that failed because this side
  // closed the stream (StreamError::closed()): "evergreen: <what>", where
  // `what` says "closed".
  [[noreturn]] void raise_closed_by_this_side(const std::string& what) const;
  // Throws the stream's error if it is closed (naming `operation`).
  void check_not_closed(const char* operation) const;
  // The readiness of the descriptor, e.g. for a connect() to wait on.
  internal::IoWatcher& watcher() { return watcher_; }
  // Called once by close(), just before the descriptor is closed. Subclass
  // destructors must not wake tasks blocked on the stream (close() does):
  // only ~BaseStream may, once it has told them the stream is gone.
  virtual void on_close() {}
  // Makes every read throw the stream's error (EBADF) without closing it.
  void set_write_only() { write_only_ = true; }
  // Routes the stream's reads, writes and shutdown() through `transport` (TLS)
  // instead of the descriptor's system calls; set before open_fd(). Not
  // owned: the subclass keeps it alive while the stream is open.
  void set_transport(internal::StreamTransport* transport) { transport_ = transport; }

 private:
  struct RegexCache;
  class WriteTurn;

  void check_open(const char* operation) const;
  [[noreturn]] void raise_closed(const char* operation) const;
  // Reads once into the buffer (offering it at least `room` bytes), blocking
  // until data or end of stream; returns the bytes read (0 at end of stream).
  size_t fill(const char* operation, size_t room = kMinReadRoom);
  // Throws unless write() may proceed: the stream is open and not shut down.
  void check_writable() const;
  // Hands data[accepted...] to the kernel until EAGAIN, counting in
  // `accepted` what it took. Throws (closing the stream) when the write fails.
  void send_directly(std::string_view data, size_t& accepted);
  // write() when the data cannot go straight to the kernel: takes the write
  // turn, then buffers up to the high-water mark, waiting for room.
  bool write_in_turn(std::string_view data, size_t& accepted);
  // Blocks the writer holding the turn until the buffer may have room (the
  // peer drained some, the stream connected, or the mark rose).
  void wait_for_output_room(const WriteTurn& turn);
  // On the io_uring backend (uses_ring_), instead of a readiness wait: one
  // ring receive into the buffer, returning what it brought (0 at end of
  // stream) or nullopt to look again; one ring send of buffered output,
  // parking until it completes. Both raise a kill or Timeout after keeping
  // what the call did (see io/internal/ring_call.h).
  std::optional<size_t> receive_on_ring(const char* operation, size_t wanted_room);
  void send_on_ring(const char* operation);
  // One ring send of up to `size` bytes at `data` (a kSendNow that never
  // waits for room if `send_now`, else a kSend), marked in flight while it
  // lasts: raises if the stream was destroyed or closed meanwhile, else wakes
  // whoever waits for room or a flush and returns what the call did. The
  // one step of send_on_ring() and send_now_on_ring().
  internal::RingOutcome perform_ring_send(bool send_now, const char* data, size_t size,
                                          const char* operation);
  // Whether a write() with nothing buffered before it hands its data to the
  // kernel as a ring send (send_now_on_ring()) rather than a send(2) of its
  // own: on the io_uring backend, in a task with no kill or Timeout pending
  // (a write that need not wait is no suspension point then either), while
  // the socket last said it had room.
  bool sends_through_ring() const;
  // data[accepted...] as one ring send that takes what the socket has room
  // for and never waits for more (kSendNow, the counterpart of a
  // non-blocking send(2)), the writer holding the turn and parked until the
  // loop's next io_uring_enter has performed it together with every other
  // operation queued in that turn. Counts in `accepted` what the kernel took;
  // a socket that took less than all is marked full, so the rest is buffered
  // and sent as the peer drains it. Throws as send_directly() does.
  void send_now_on_ring(std::string_view data, size_t& accepted);
  // Sends buffered output until EAGAIN; returns 0 or the errno of a failure.
  int drain_output();
  // One write of the descriptor (or the transport); -1 with errno on failure.
  ssize_t send_some(const char* data, size_t size);
  void on_writable() override;
  // Blocks until at most `limit` bytes are buffered.
  void wait_output_below(size_t limit, const char* operation);
  // Whether output is still on its way: buffered here, or held back by the
  // transport.
  bool output_in_flight() const {
    return pending_output() > 0 || ring_send_in_flight_ ||
           (transport_ != nullptr && transport_->holds_output());
  }
  // Closes the stream because `operation` failed with `error`.
  void close_with_error(int error, const char* operation);
  [[noreturn]] void fail(int error, const char* operation);

  internal::ErrorKind kind_;
  internal::UniqueFd fd_;
  internal::FdTraits traits_;
  internal::StreamTransport* transport_ = nullptr;
  internal::IoWatcher watcher_;
  internal::ReadBuffer input_;
  std::string output_;
  size_t output_sent_ = 0;
  // Whether a write() holds the turn; others wait in write_turns_, in order.
  bool write_turn_taken_ = false;
  evergreen::internal::WaitQueue write_turns_;
  // Where the turn's holder waits for room before the stream has a descriptor.
  evergreen::internal::WaitQueue output_room_;
  std::unique_ptr<RegexCache> regex_;
  size_t max_buffer_size_ = kDefaultMaxBufferSize;
  size_t write_high_water_ = kDefaultWriteHighWater;
  bool closed_ = false;
  // Receives and sends wait as io_uring operations rather than on readiness.
  bool uses_ring_ = false;
  // A ring send is in flight: of buffered output (it reads output_ from
  // output_sent_: nothing may move it), or of a write()'s own data
  // (send_now_on_ring(); a flush waits for it too).
  bool ring_send_in_flight_ = false;
  bool write_only_ = false;
  bool write_shut_ = false;
  int error_ = 0;  // the errno that closed the stream, if one did
  const char* error_operation_ = nullptr;
  evergreen::internal::ThreadAffinity affinity_;
};

// StreamConnection
//
// A stream accepted by a StreamServer, handed to handle_connection(). It stays
// in the server's connections() until it is closed or the last reference to
// it goes away (whichever comes first), and server.close() closes it.
class StreamConnection : public BaseStream,
                         public std::enable_shared_from_this<StreamConnection>,
                         private evergreen::internal::IntrusiveListNode<StreamConnection> {
 public:
  ~StreamConnection() override;

  // The server that accepted this connection; null once it closed it.
  StreamServer* server() const { return server_; }

  // StreamConnection::sockname() / StreamConnection::peername()
  //
  // The local / remote end. TCP: the IP address and port. Unix sockets
  // (PipeConnection): the path as `host` and port 0; sockname() is the path
  // the server bound, peername() usually {"", 0}, since clients seldom bind a
  // path. Throw the stream's error once closed (StreamError::closed()).
  virtual Address sockname() const;
  virtual Address peername() const;

 protected:
  explicit StreamConnection(internal::ErrorKind kind) : BaseStream(kind) {}
  void on_close() override { unlink(); }

 private:
  friend class StreamServer;
  // The server's list of its connections links them through the private base.
  friend class evergreen::internal::IntrusiveList<StreamConnection>;
  void unlink();
  Address address_of_end(bool remote, const char* operation) const;

  // Non-null exactly while the connection is in the server's list.
  StreamServer* server_ = nullptr;
};

// StreamServer
//
// Accepts connections and runs handle_connection() for each one in a task of
// its own. Subclasses provide bind() (TCPServer: an Address; PipeServer: a
// path) and the connection type. A server must outlive the handlers it
// started that still use it.
class StreamServer {
 public:
  static constexpr int kDefaultBacklog = 128;
  using ConnectionHandler = absl::AnyInvocable<void(std::shared_ptr<StreamConnection>)>;

  // Closes the server and its connections.
  virtual ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // StreamServer::serve()
  //
  // Accepts connections until close(), each running handle_connection() in a
  // new task; `backlog` bounds the connections waiting to be accepted (the
  // server listens from bind() on, with the default). Blocks the caller until
  // close() (then returns normally). A serve() that starts after close() of
  // a bound server returns at once: a close() that runs before the task
  // calling serve() got to run is a normal shutdown, not an error. Throws the
  // server's error before bind() (closed or not), or if listening fails
  // (EADDRINUSE).
  void serve(int backlog = kDefaultBacklog);

  // StreamServer::close()
  //
  // Stops accepting (serve() returns) and closes every live connection, waking
  // the tasks blocked on them with their stream's error. Never parks the
  // caller (an accept in flight on io_uring is cancelled and waited for, as
  // in BaseStream::close()); closing twice does nothing.
  void close();

  bool closed() const { return closed_; }

  // StreamServer::handle_connection()
  //
  // Serves one connection; runs in its own task, so it may block. When it
  // returns, output still buffered is delivered for at most linger(), then
  // the connection is closed and its buffer freed; unless a reference to it is
  // kept elsewhere, which leaves the connection (and its output) to that
  // owner. A StreamError from a connection that is closed by then (the client
  // went away, or the server closed) ends the task quietly; other exceptions
  // are reported with the task's name. The default calls the handler given to
  // the constructor, or closes the connection when there is none.
  virtual void handle_connection(std::shared_ptr<StreamConnection> connection);

  // StreamServer::set_linger()
  //
  // How long a connection whose handler returned may take to deliver the
  // output it still buffers. A client that has not read it all by then loses
  // the connection: it is reset (the client reads ECONNRESET) and its buffer
  // freed, so clients that never read cannot pin server memory. Zero drops
  // such output at once; std::nullopt waits for as long as the client takes.
  // Applies to handlers that return from then on. Throws
  // std::invalid_argument, naming the server, for a negative duration.
  void set_linger(std::optional<Duration> linger);
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  void set_linger(std::chrono::duration<Rep, Period> linger) {
    set_linger(std::optional<Duration>(to_duration(linger)));
  }
  std::optional<Duration> linger() const { return linger_; }
  static constexpr Duration kDefaultLinger = std::chrono::seconds(5);

  // The connections accepted and not yet closed or released, oldest first.
  std::vector<std::shared_ptr<StreamConnection>> connections() const;
  size_t connection_count() const { return connection_count_; }

  // The listening descriptor, or -1.
  int fileno() const { return listener_.get(); }

 protected:
  StreamServer(internal::ErrorKind kind, ConnectionHandler handler);

  // Takes the bound socket made by the subclass's bind() and listens on it.
  // Throws the server's error after close(), when already bound, or when
  // listening fails (EADDRINUSE).
  void set_listener(internal::UniqueFd fd);
  bool bound() const { return listener_.valid(); }
  // Wraps an accepted socket in the subclass's connection type.
  virtual std::shared_ptr<StreamConnection> make_connection(internal::UniqueFd fd) = 0;
  // Runs in the connection's own task before handle_connection() (a TLS
  // handshake). Returning false, or throwing a StreamError, drops the
  // connection: it is closed and handle_connection() never sees it. The
  // default accepts every connection as it is.
  virtual bool prepare_connection(StreamConnection& connection);
  // What serve() does with each accepted socket: by default wraps it
  // (make_connection) and runs handle_connection() in a new task on this
  // loop. A server that hands connections to other loops
  // (BalancedTCPServer) overrides it.
  virtual void on_accepted(internal::UniqueFd fd) { start_connection(std::move(fd)); }
  // A file close() removes after closing the listener (a pipe server's path).
  // Kept here rather than in a virtual hook: the destructor closes the server
  // after the subclass is gone.
  void remove_on_close(std::string path) { remove_on_close_ = std::move(path); }
  // A description for messages: "TCP server 127.0.0.1:8080".
  virtual std::string describe() const = 0;
  [[noreturn]] void raise(int errno_value, const std::string& what) const;
  // Throws the server's error for an operation on it after close()
  // (StreamError::closed()): "evergreen: <what>", where `what` says "closed".
  [[noreturn]] void raise_closed(const std::string& what) const;
  internal::ErrorKind error_kind() const { return kind_; }

 private:
  friend class StreamConnection;
  void start_connection(internal::UniqueFd fd);
  void report_accept_starvation(int error);
  // One accept as an io_uring operation (that backend only), handing the
  // connection to on_accepted(). Returns false when the server was destroyed
  // meanwhile (it must not be touched); raises a kill or Timeout afterwards.
  bool accept_on_ring();
  static void run_handler(std::shared_ptr<StreamConnection> connection);
  // After the handler: flushes for at most `linger`, then resets the
  // connection if output is still left.
  static void finish_connection(StreamConnection& connection, std::optional<Duration> linger_time);

  internal::ErrorKind kind_;
  ConnectionHandler handler_;
  internal::UniqueFd listener_;
  internal::IoWatcher watcher_;
  std::string remove_on_close_;
  bool closed_ = false;
  bool serving_ = false;
  std::optional<Duration> linger_ = kDefaultLinger;
  bool was_bound_ = false;  // close() keeps it: serve() after close() is quiet
  // Out of descriptors or memory in accept, and said so: reported once until
  // an accept succeeds again, not on every retry.
  bool starvation_reported_ = false;
  evergreen::internal::IntrusiveList<StreamConnection> connections_;
  size_t connection_count_ = 0;

 protected:
  // Throws std::logic_error off the server's thread (see ThreadAffinity):
  // every public member calls it first.
  void check_thread(const char* member) const { affinity_.check_dynamic(this, member); }

 private:
  evergreen::internal::ThreadAffinity affinity_;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_STREAM_H_
