// The example in README.md, verbatim: built by `./bazelw test //...`, so the
// README cannot show code that no longer compiles.
#include "evergreen/evergreen.h"

using namespace std::chrono_literals;
using namespace evergreen;

int main() {
  io::TCPServer server;                      // handle_connection runs in a task per client
  server.bind({"127.0.0.1", 0});
  spawn([&] { server.serve(); });
  io::TCPClient client;
  client.connect(server.sockname());         // blocks only this context; the loop runs meanwhile
  client.write("hello\n");
  auto task = spawn([] { sleep(10ms); });    // tasks interleave at blocking calls
  task->join();
  server.close();
}
