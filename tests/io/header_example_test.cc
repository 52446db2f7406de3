// The usage example at the top of evergreen/io/tcp.h, verbatim, so that it
// compiles and does what it says. Keep the two identical.
#include <chrono>
#include <memory>
#include <string>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using evergreen::testing::bounded;
using HeaderExampleTest = evergreen::testing::IoTest;

TEST_F(HeaderExampleTest, TcpHeaderExampleEchoesALine) {
  bounded([] {
    // --- from evergreen/io/tcp.h ---
    io::TCPServer server([](std::shared_ptr<io::StreamConnection> connection) {
      for (std::string line; !(line = connection->read_until("\n")).empty();) {
        connection->write(line);
      }
    });
    server.bind({"127.0.0.1", 0});
    spawn([&] { server.serve(); });

    io::TCPClient client;
    client.connect(server.sockname());
    client.write("hello\n");
    std::string echoed = client.read_until("\n");
    // --- end ---
    EXPECT_EQ(echoed, "hello\n");
    client.close();
    server.close();
    sleep(0s);  // the serve task ends
  });
}

}  // namespace
}  // namespace evergreen
