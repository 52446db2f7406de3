// The seed's echo server: every line a client sends comes back to it.
//
//   ./bazelw run //examples:echo_server -- 1234
//   ./bazelw run //examples:echo_client -- 127.0.0.1 1234 hello world
//
// Each connection runs handle_connection() in a task of its own, so the
// blocking-looking loop below serves any number of clients on one thread.
// Ctrl-C closes the server (and every connection) and the program ends.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"

using namespace evergreen;

class EchoServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    std::printf("client connected from %s\n", connection->peername().to_string().c_str());
    for (;;) {
      std::string data = connection->read_until("\n");
      if (data.empty()) break;
      connection->write(data);
    }
    std::printf("connection closed\n");
  }
};

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int port = argc > 1 ? std::atoi(argv[1]) : 1234;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s [port]\n", argv[0]);
    return 2;
  }
  EchoServer server;
  try {
    server.bind({"0.0.0.0", static_cast<uint16_t>(port)});
  } catch (const io::TCPError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  std::printf("listening on %s\n", server.sockname().to_string().c_str());
  EventLoop::current().add_signal_handler(SIGINT, [&] { server.close(); });
  EventLoop::current().add_signal_handler(SIGTERM, [&] { server.close(); });
  server.serve();  // blocks this (main) context until close(); the loop runs meanwhile
  std::printf("server closed\n");
  return 0;
}
