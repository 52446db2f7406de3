// evergreen/io/balanced_tcp_server.h
//
// BalancedTCPServer: one listener whose accepted connections are handed out
// to the loops of a LoopGroup, each to the loop that has the fewest live
// connections at that moment (ties: the lowest index).
//
//   LoopGroup group;
//   io::BalancedTCPServer server(group, [](std::shared_ptr<io::StreamConnection> c) {
//     for (;;) c->write(c->read(4096));   // runs on the loop it was given to
//   });
//   server.bind({"0.0.0.0", 8080});
//   server.serve();                        // accepts on the caller's loop
//
// Which to use (see also bind_options.h):
// - BindOptions{.reuse_port = true} with one TCPServer per loop: no hop
//   between threads, every loop accepts on its own; the kernel spreads
//   connections by a hash of the peer's address, blind to load. Best for
//   many short, similar connections (HTTP/1 request bursts).
// - BalancedTCPServer: one thread accepts and each connection crosses to
//   its loop once (one cross-thread callback); loops stay even by live
//   connections however long each lives. Best for long-lived or uneven
//   connections (WebSockets, database sessions), where a hash can leave one
//   loop with far more than another.
//
// Guarantees:
// - The handler runs in a new task on the chosen loop, with a TCPConnection
//   that belongs to that loop. It is called on several loops at once, so it
//   must be safe to call concurrently. As with TCPServer, a StreamError that
//   ends the connection ends the task quietly, and output the handler left
//   buffered is flushed for up to StreamServer::kDefaultLinger.
// - A connection is live from the moment it is handed out until its
//   connection object is destroyed (the handler returned and no one else
//   holds it).
// - The server itself (bind, serve, close, sockname) is a TCPServer of the
//   loop that serves it. close() stops accepting; connections already
//   handed out belong to their loops and go on. If the group was stopped,
//   accepted connections are closed at once.
#ifndef EVERGREEN_IO_BALANCED_TCP_SERVER_H_
#define EVERGREEN_IO_BALANCED_TCP_SERVER_H_

#include <functional>
#include <memory>
#include <vector>

#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/loop_group.h"

namespace evergreen::io {

class BalancedTCPServer : public TCPServer {
 public:
  using Handler = std::function<void(std::shared_ptr<StreamConnection>)>;

  // `group` must outlive the server's serve().
  BalancedTCPServer(LoopGroup& group, Handler handler);

  // BalancedTCPServer::live_connections()
  //
  // How many live connections each loop of the group has (index i: loop i).
  // Any thread.
  std::vector<size_t> live_connections() const;

  // Counts per loop, shared with the connections (which may outlive the
  // server).
  struct LiveCounts;

 protected:
  void on_accepted(internal::UniqueFd fd) override;

 private:
  LoopGroup& group_;
  std::shared_ptr<const Handler> handler_;
  std::shared_ptr<LiveCounts> live_;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_BALANCED_TCP_SERVER_H_
