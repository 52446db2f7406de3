// A consumer of an installed evergreen (tests/consumers/README.md): ten tasks
// that sleep and count, and a TCP echo over loopback, all on one thread.
// Prints one success line and exits 0, or says what failed and exits 1.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"

using namespace evergreen;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "consumer";
  int counted = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 10; ++i) {
    tasks.push_back(spawn([&counted, i] {
      sleep(std::chrono::milliseconds(10 * (10 - i)));
      ++counted;
    }));
  }

  io::TCPServer server([](std::shared_ptr<io::StreamConnection> connection) {
    for (std::string line; !(line = connection->read_until("\n")).empty();) connection->write(line);
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  std::string echoed;
  bool finished = with_timeout(10s, [&] {
    io::TCPClient client;
    client.connect(server.sockname());
    client.write("hello evergreen\n");
    echoed = client.read_until("\n");
    client.close();
    for (auto& task : tasks) task->join();
  });
  server.close();
  serving->join();

  if (!finished || counted != 10 || echoed != "hello evergreen\n") {
    std::printf("%s: FAILED (finished %d, %d of 10 tasks, echoed \"%s\")\n", name, finished,
                counted, echoed.c_str());
    return 1;
  }
  std::printf("%s: OK (10 tasks joined, loopback echo \"hello evergreen\")\n", name);
  return 0;
}
