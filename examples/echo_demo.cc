// evergreen's demo: an echo server and three clients, all on one thread.
//
//   ./bazelw run //examples:echo_demo
//
// The server runs in a task and starts a task per connection; the clients run
// in tasks too. Every call below reads as blocking code - connect, write,
// read_until - yet it only suspends its own task, and the event loop runs the
// others meanwhile: watch the clients' lines interleave.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/task_group.h"
#include "evergreen/loop/timeout.h"

using namespace std::chrono_literals;

using namespace evergreen;

class EchoServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    io::Address peer = connection->peername();
    std::printf("server: %s connected\n", peer.to_string().c_str());
    for (;;) {
      std::string line = connection->read_until("\n");
      if (line.empty()) break;
      connection->write(line);
    }
    std::printf("server: %s disconnected\n", peer.to_string().c_str());
  }
};

void client(const std::string& name, const io::Address& server, int lines) {
  io::TCPClient connection;
  connection.connect(server);
  for (int i = 1; i <= lines; ++i) {
    std::string line = name + " says hello #" + std::to_string(i) + "\n";
    connection.write(line);
    std::string echo = connection.read_until("\n");
    std::printf("%s: sent %d, got back \"%.*s\"\n", name.c_str(), i,
                static_cast<int>(echo.size()) - 1, echo.c_str());
    sleep(std::chrono::milliseconds(5 * lines));  // let the others take turns
  }
  connection.close();
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  EchoServer server;
  server.bind({"127.0.0.1", 0});  // port 0: the kernel picks a free one
  io::Address address = server.sockname();
  std::printf("server: listening on %s\n", address.to_string().c_str());
  auto serving = spawn([&] { server.serve(); });

  // A TaskGroup: if one client fails, the others are stopped and join()
  // rethrows its error.
  TaskGroup clients;
  for (const char* name : {"alice", "bob", "carol"}) {
    clients.spawn(client, std::string(name), address, 3);
  }

  // The main context blocks too: joining runs the loop until they finish.
  bool finished = with_timeout(10s, [&] {
    clients.join();
    // Each handler sees its client's end of stream, returns, and the server
    // forgets the connection.
    while (server.connection_count() > 0) sleep(1ms);
  });
  std::printf("main: clients %s, %zu connections open\n", finished ? "done" : "timed out",
              server.connection_count());
  server.close();
  serving->join();
  std::printf("main: server closed, bye\n");
  return finished ? 0 : 1;
}
