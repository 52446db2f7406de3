// evergreen/io/bind_options.h
//
// BindOptions: how TCPServer::bind() and UDPEndpoint::bind() set up their
// socket.
//
// reuse_port (SO_REUSEPORT): several sockets (typically one per loop of a
// LoopGroup, each with its own server) bind the same address and port, and
// the kernel spreads incoming connections or datagrams among them by a hash
// of the peer's address and port. Every socket sharing the port must ask for
// it, and belong to the same user. The kernel's spread ignores load: one
// loop may get far more long-lived connections than another. Where
// connections differ a lot in cost or lifetime, prefer BalancedTCPServer
// (balanced_tcp_server.h), which hands each connection to the loop with the
// fewest live ones.
#ifndef EVERGREEN_IO_BIND_OPTIONS_H_
#define EVERGREEN_IO_BIND_OPTIONS_H_

namespace evergreen::io {

struct BindOptions {
  bool reuse_port = false;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_BIND_OPTIONS_H_
