// Unix-socket "pipes": the seed's tests (read, read error) and the errors of
// binding and connecting by path.
#include "evergreen/io/pipe.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/echo_server.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using PipeTest = evergreen::testing::IoTest;

// A socket path of our own (TEST_TMPDIR is often too long for a socket name,
// which must fit in 108 bytes).
std::string socket_path(const std::string& name) {
  std::string path = "/tmp/evergreen-" + name + "-" + std::to_string(getpid());
  ::unlink(path.c_str());
  return path;
}

class EchoPipeServer : public PipeServer {
 public:
  void handle_connection(std::shared_ptr<StreamConnection> connection) override {
    evergreen::testing::echo_lines(*connection);
  }
};

// Serves `server` (bound to `path`) in a task, checks that a client gets its
// line echoed, then closes both and joins the serving task.
void expect_echo_then_close(const std::string& path, PipeServer& server) {
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    PipeClient client;
    client.connect(path);
    client.write("PING\n");
    EXPECT_EQ(client.read_until("\n"), "PING\n");
    client.close();
    server.close();
    serving->join();
  });
}

TEST_F(PipeTest, Read) {
  std::string path = socket_path("echo");
  EchoPipeServer server;
  server.bind(path);
  EXPECT_EQ(server.pipename(), path);
  expect_echo_then_close(path, server);
  struct stat info;
  EXPECT_NE(::stat(path.c_str(), &info), 0) << "close() removes the socket file";
}

TEST_F(PipeTest, AConnectionNamesItsEndsByPath) {
  std::string path = socket_path("names");
  std::shared_ptr<StreamConnection> accepted;
  PipeServer server([&](std::shared_ptr<StreamConnection> connection) {
    accepted = connection;
    connection->read_bytes(1);
  });
  server.bind(path);
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    PipeClient client;
    client.connect(path);
    while (!accepted) sleep(1ms);
    EXPECT_EQ(accepted->sockname(), (Address{path, 0}));
    EXPECT_EQ(accepted->peername(), (Address{"", 0})) << "the client bound no path";
    server.close();
    try {
      accepted->sockname();
      ADD_FAILURE() << "expected a PipeError";
    } catch (const PipeError& error) {
      EXPECT_TRUE(error.closed()) << error.what();
    }
    serving->join();
  });
}

TEST_F(PipeTest, APeerThatBoundAPathIsNamedByIt) {
  std::string path = socket_path("named-server");
  std::string client_path = socket_path("named-client");
  std::optional<Address> remote;
  PipeServer server(
      [&](std::shared_ptr<StreamConnection> connection) { remote = connection->peername(); });
  server.bind(path);
  auto serving = spawn([&] { server.serve(); });
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, client_path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  bounded([&] {
    while (!remote) sleep(1ms);
    server.close();
    serving->join();
  });
  ::close(fd);
  ::unlink(client_path.c_str());
  EXPECT_EQ(remote, std::optional<Address>(Address{client_path, 0}));
}

TEST_F(PipeTest, AConnectionWhoseClientNeverReadsIsClosedAfterTheLingerTime) {
  std::string path = socket_path("linger");
  constexpr size_t kReply = 4 << 20;
  bool returned = false;
  PipeServer server([&](std::shared_ptr<StreamConnection> connection) {
    connection->set_write_high_water(kReply);  // so that the write returns
    connection->write(std::string(kReply, 'p'));
    returned = true;
  });
  server.set_linger(50ms);
  server.bind(path);
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    PipeClient client;
    client.connect(path);
    while (!returned) sleep(1ms);
    while (server.connection_count() > 0) sleep(1ms);
    // What had reached the client's socket, then end of stream or an error.
    size_t received = 0;
    try {
      for (std::string piece; !(piece = client.read_bytes(1 << 16)).empty();) {
        received += piece.size();
      }
    } catch (const PipeError&) {
    }
    EXPECT_LT(received, kReply);
    server.close();
    serving->join();
  });
}

TEST_F(PipeTest, ReadError) {
  std::string path = socket_path("read-error");
  EchoPipeServer server;
  server.bind(path);
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    PipeClient client;
    client.connect(path);
    sleep(10ms);
    client.close();
    EXPECT_THROW(client.read_until("\n"), PipeError);
    server.close();
    serving->join();
  });
}

TEST_F(PipeTest, BindingAPathInUseFails) {
  std::string path = socket_path("in-use");
  PipeServer first;
  first.bind(path);
  PipeServer second;
  try {
    second.bind(path);
    ADD_FAILURE() << "expected EADDRINUSE";
  } catch (const PipeError& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

// A socket file as a crashed server leaves it: bound, never unlinked, and
// nobody listening any more.
void leave_stale_socket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::close(fd);
}

// bind() that must fail with EADDRINUSE, its message naming the path and
// containing `reason`.
void expect_bind_refused(const std::string& path, StaleSocket stale, const std::string& reason) {
  PipeServer server;
  try {
    server.bind(path, stale);
    ADD_FAILURE() << "expected EADDRINUSE binding " << path;
  } catch (const PipeError& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(reason), std::string::npos) << error.what();
  }
}

TEST_F(PipeTest, AStaleSocketIsRefusedByDefault) {
  std::string path = socket_path("stale-default");
  leave_stale_socket(path);
  expect_bind_refused(path, StaleSocket::kRefuse, "StaleSocket::kReplace");
  struct stat info;
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << "the default removes nothing";
  ::unlink(path.c_str());
}

TEST_F(PipeTest, AStaleSocketIsReplacedWhenAsked) {
  std::string path = socket_path("stale-replace");
  leave_stale_socket(path);
  EchoPipeServer server;
  server.bind(path, StaleSocket::kReplace);
  expect_echo_then_close(path, server);
}

TEST_F(PipeTest, ReplacingNeverTakesTheSocketOfALiveServer) {
  std::string path = socket_path("stale-live");
  EchoPipeServer live;
  live.bind(path);
  expect_bind_refused(path, StaleSocket::kReplace, "a server is listening there");
  expect_echo_then_close(path, live);  // still the live server's socket
}

TEST_F(PipeTest, ReplacingNeverRemovesAFileThatIsNotASocket) {
  std::string path = socket_path("stale-regular");
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  expect_bind_refused(path, StaleSocket::kReplace, "not a socket");
  struct stat info;
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  ::unlink(path.c_str());
}

TEST_F(PipeTest, ConnectingWhereNobodyListensFails) {
  bounded([&] {
    PipeClient client;
    std::string path = socket_path("nobody");
    try {
      client.connect(path);
      ADD_FAILURE() << "expected ENOENT";
    } catch (const PipeError& error) {
      EXPECT_EQ(error.code().value(), ENOENT);
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
  });
}

TEST_F(PipeTest, APathTooLongIsRejected) {
  PipeServer server;
  try {
    server.bind(std::string(200, 'p'));
    ADD_FAILURE() << "expected ENAMETOOLONG";
  } catch (const PipeError& error) {
    EXPECT_EQ(error.code().value(), ENAMETOOLONG);
  }
}

TEST_F(PipeTest, PipeStreamOverPipe2) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  PipeStream reader;
  PipeStream writer;
  reader.open(fds[0]);
  writer.open(fds[1]);
  bounded([&] {
    auto producer = spawn([&] {
      for (int i = 0; i < 100; ++i) writer.write("line " + std::to_string(i) + "\n");
      writer.close();
    });
    for (int i = 0; i < 100; ++i)
      EXPECT_EQ(reader.read_until("\n"), "line " + std::to_string(i) + "\n");
    EXPECT_EQ(reader.read_until("\n"), "");
    producer->join();
  });
}

}  // namespace
}  // namespace evergreen::io
