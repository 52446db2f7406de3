// A chat server: every line a client sends goes to every other client.
//
//   ./bazelw run //examples:chat_server                     # demo, checks itself
//   ./bazelw run //examples:chat_server -- 127.0.0.1:7000   # serve; try `nc`
//
// A client's first line is its name; "/quit" leaves. Each connection has a
// TaskGroup of two tasks: a reader, which broadcasts what the client says,
// and a writer, which sends what lands in the client's outbox, a Queue. A
// broadcast never blocks on a slow client: try_put() fails when its outbox
// is full, and that client is dropped rather than holding up the room.
// When the reader ends (the client left, or its connection broke) it closes
// the outbox; the writer's `for (line : outbox)` sends what is left and ends.
// If either task fails, the group kills the other and join() rethrows.
//
// Without an address the program runs a scripted demo over loopback: alice,
// bob and carol join and chat, carol leaves with /quit, dave joins and hangs
// up, and every client checks that it saw exactly the expected lines. It
// exits 1 if anything differs (the //examples:chat_server_test runs it that
// way).
#include <chrono>
#include <cstdio>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "evergreen/io/address.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/task_group.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/queue.h"
#include "evergreen/sync/queue_closed.h"

using namespace std::chrono_literals;

using namespace evergreen;

namespace {

// Lines a client may have queued before it counts as too slow to keep.
constexpr size_t kOutboxLines = 256;

// A line without its "\n" (or "\r\n", as nc and telnet may send).
std::string chomp(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

class ChatServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    const std::string peer = connection->peername().to_string();
    std::string name = chomp(connection->read_until("\n"));
    if (name.empty()) return;  // left (or sent an empty name) before joining

    // This client, known to the room while the reader runs.
    Member me{name, connection, Queue<std::string>(kOutboxLines)};
    broadcast(&me, "* " + name + " joined\n");
    me.outbox.put("* welcome " + name + "\n");
    members_.push_back(&me);
    std::printf("server: %s joined from %s\n", name.c_str(), peer.c_str());

    TaskGroup group;
    group.spawn([&] {
      for (std::string line : me.outbox) connection->write(line);
      connection->flush();
    });
    group.spawn([&] {
      for (;;) {
        std::string line = connection->read_until("\n");
        if (line.empty() || chomp(line) == "/quit") break;  // end of stream, or asked to
        broadcast(&me, name + ": " + line);
      }
      leave(&me);
    });
    try {
      group.join();
      std::printf("server: %s left\n", name.c_str());
    } catch (const io::StreamError& error) {
      // A reset or a dropped slow client: the room already heard it left.
      std::printf("server: %s dropped (%s)\n", name.c_str(), error.what());
    }
    leave(&me);  // if the writer failed, the reader was killed before leaving
  }

 private:
  struct Member {
    std::string name;
    std::shared_ptr<io::StreamConnection> connection;
    Queue<std::string> outbox;
  };

  // Queues `line` for every member but `from`. Never blocks: a member whose
  // outbox is full is dropped (its connection closed, which ends its tasks).
  void broadcast(const Member* from, const std::string& line) {
    std::vector<Member*> too_slow;
    for (Member* member : members_) {
      if (member != from && !member->outbox.try_put(line)) too_slow.push_back(member);
    }
    for (Member* member : too_slow) {
      leave(member);
      member->connection->close();
    }
  }

  // Takes `member` out of the room (once) and tells the others.
  void leave(Member* member) {
    if (member->outbox.closed()) return;
    members_.remove(member);
    member->outbox.close();
    broadcast(member, "* " + member->name + " left\n");
  }

  std::list<Member*> members_;
};

// --- the demo: scripted clients that check what they receive. ---

class DemoClient {
 public:
  explicit DemoClient(std::string name) : name_(std::move(name)) {}

  // Connects, sends the name, starts a task of `readers` that fills the
  // inbox, and waits to be welcomed (so clients join in the script's order).
  void join(const io::Address& server, TaskGroup& readers) {
    connection_.connect(server);
    connection_.write(name_ + "\n");
    readers.spawn([this] {
      try {
        for (;;) {
          std::string line = connection_.read_until("\n");
          if (line.empty()) break;  // the server closed the connection
          inbox_.put(chomp(line));
        }
      } catch (const io::StreamError& error) {
        if (!error.closed()) throw;  // a real failure; hang_up() closing ours is not
      }
      inbox_.close();
    });
    expect("* welcome " + name_);
  }

  void say(const std::string& text) { connection_.write(text + "\n"); }

  // Leaves without a word: closes the connection (the server sees its end).
  void hang_up() {
    connection_.close();
    std::printf("%s: hung up\n", name_.c_str());
  }

  // The next line received must be `line`; throws otherwise (or after 5 s).
  void expect(const std::string& line) {
    std::optional<std::string> got;
    try {
      got = inbox_.get_for(5s);
    } catch (const QueueClosed&) {
      fail("the server closed the connection, expected \"" + line + "\"");
    }
    if (!got) fail("nothing within 5 s, expected \"" + line + "\"");
    if (*got != line) fail("got \"" + *got + "\", expected \"" + line + "\"");
    std::printf("%s: saw \"%s\"\n", name_.c_str(), got->c_str());
  }

  // Leaves with /quit; the server then closes the connection, and nothing
  // else must have arrived.
  void quit() {
    say("/quit");
    try {
      std::optional<std::string> extra = inbox_.get_for(5s);
      fail(extra ? "unexpected \"" + *extra + "\"" : "the server did not close within 5 s");
    } catch (const QueueClosed&) {
      std::printf("%s: disconnected\n", name_.c_str());
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("chat demo: " + name_ + ": " + what);
  }

  std::string name_;
  io::TCPClient connection_;
  Queue<std::string> inbox_;
};

int demo() {
  ChatServer server;
  server.bind({"127.0.0.1", 0});
  io::Address address = server.sockname();
  std::printf("server: listening on %s\n", address.to_string().c_str());
  auto serving = spawn([&] { server.serve(); });

  bool ok = true;
  {
    DemoClient alice("alice"), bob("bob"), carol("carol"), dave("dave");
    // The clients' reader tasks: declared after the clients, so that on the
    // way out it kills and waits for its tasks before the clients go.
    TaskGroup readers;
    try {
      bool finished = with_timeout(20s, [&] {
        alice.join(address, readers);
        bob.join(address, readers);
        alice.expect("* bob joined");
        carol.join(address, readers);
        alice.expect("* carol joined");
        bob.expect("* carol joined");

        alice.say("hi all");
        bob.expect("alice: hi all");
        carol.expect("alice: hi all");

        carol.say("bye");
        alice.expect("carol: bye");
        bob.expect("carol: bye");
        carol.quit();
        alice.expect("* carol left");
        bob.expect("* carol left");

        dave.join(address, readers);
        alice.expect("* dave joined");
        bob.expect("* dave joined");
        dave.hang_up();
        alice.expect("* dave left");
        bob.expect("* dave left");

        bob.say("just us now");
        alice.expect("bob: just us now");
        bob.quit();
        alice.expect("* bob left");
        alice.quit();
        readers.join();
      });
      if (!finished) throw std::runtime_error("chat demo: timed out after 20 s");
    } catch (const std::exception& error) {
      std::printf("%s\n", error.what());
      ok = false;
    }
  }
  server.close();
  serving->join();
  std::printf("demo: %s\n", ok ? "every client saw what it expected" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) return demo();
  ChatServer server;
  server.bind(io::Address::parse(argv[1]));
  std::printf("chat server on %s; connect with nc, send your name first\n",
              server.sockname().to_string().c_str());
  server.serve();
}
