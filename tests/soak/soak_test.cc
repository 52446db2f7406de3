// A randomized soak of the whole runtime on one loop: TCP clients opening,
// using and closing connections to an echo server, tasks killed and timed out
// at random in every kind of wait, queue producers and consumers, semaphore
// holders. At the end nothing may be left behind: no fd, no task, no lost or
// duplicated item, no memory growth once the run is warm.
//
// EVERGREEN_SOAK_SECONDS sets the length (default 5; CI runs 60 under ASan),
// EVERGREEN_SOAK_SEED the random seed (printed, so a failure can be re-run).
// Scheduling still varies from run to run; every check is an invariant that
// holds for any interleaving.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

#if defined(EVERGREEN_ASAN) || defined(EVERGREEN_TSAN)
// ASan keeps freed memory in a quarantine (256 MiB by default) before reuse.
constexpr size_t kAllowedGrowth = 192u << 20;
#else
constexpr size_t kAllowedGrowth = 64u << 20;
#endif

long env_or(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtol(value, nullptr, 10) : fallback;
}

int open_fd_count() {
  int count = 0;
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return -1;
  while (dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(directory);
  return count - 1;  // the directory's own fd
}

size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// Echoes whatever arrives, in chunks, until the client closes.
class EchoServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    ++served;
    try {
      for (;;) {
        std::string chunk = connection->read_bytes(16 * 1024);
        if (chunk.empty()) return;
        connection->write(chunk);
      }
    } catch (const io::StreamError&) {
      // The client reset or closed mid-way: its own business.
    }
  }
  long served = 0;
};

struct Counts {
  long round_trips = 0;
  long connections = 0;
  long timeouts = 0;
  long kills = 0;
  long puts = 0;
  long gets = 0;
  long permits_held = 0;
  long max_permits_held = 0;
  long bad_echoes = 0;
};

class Soak {
 public:
  Soak(uint32_t seed, std::chrono::seconds length)
      : random_(seed), deadline_(std::chrono::steady_clock::now() + length) {}

  bool running() const { return std::chrono::steady_clock::now() < deadline_; }
  // A wait with no timeout of its own still ends soon after the deadline:
  // once the producers stop, a consumer's get() would otherwise wait forever.
  Duration until_shortly_after_the_end() const {
    return std::max<Duration>(deadline_ + 100ms - std::chrono::steady_clock::now(), 1ms);
  }
  uint32_t pick(uint32_t below) {
    return std::uniform_int_distribution<uint32_t>(0, below - 1)(random_);
  }

  // One client task: connections one after another, each with a few echoed
  // messages of random size; now and then under a Timeout too short to finish.
  void client(const io::Address& server) {
    while (running()) {
      io::TCPClient connection;
      connection.connect(server);
      ++counts.connections;
      int messages = 1 + static_cast<int>(pick(8));
      for (int i = 0; i < messages; ++i) {
        std::string message(1 + pick(64 * 1024), static_cast<char>('a' + pick(26)));
        std::optional<Duration> limit;
        if (pick(10) == 0) limit = std::chrono::microseconds(pick(3000));
        bool finished = with_timeout(limit, [&] {
          connection.write(message);
          std::string echoed;
          while (echoed.size() < message.size()) {
            std::string chunk = connection.read_bytes(message.size() - echoed.size());
            if (chunk.empty()) break;
            echoed += chunk;
          }
          if (echoed != message) ++counts.bad_echoes;
          ++counts.round_trips;
        });
        if (!finished) {
          ++counts.timeouts;
          break;  // the stream is mid-message: start afresh
        }
      }
      if (pick(4) == 0) {
        connection.write(std::string(pick(32 * 1024), 'z'));  // closes with output unsent
      }
      connection.close();
    }
  }

  // Producers and consumers of one bounded queue, some with timeouts.
  void producer() {
    while (running()) {
      try {
        Duration limit = until_shortly_after_the_end();
        if (pick(4) == 0) limit = std::chrono::microseconds(pick(2000));
        queue.put(static_cast<int>(pick(1000)), true, limit);
        ++counts.puts;
      } catch (const Full&) {
        ++counts.timeouts;
      }
      if (pick(8) == 0) sleep(0s);
    }
  }
  void consumer() {
    while (running()) {
      try {
        Duration limit = until_shortly_after_the_end();
        if (pick(4) == 0) limit = std::chrono::microseconds(pick(2000));
        queue.get(true, limit);
        ++counts.gets;
      } catch (const Empty&) {
        ++counts.timeouts;
      }
    }
  }

  // Holders of a three-permit semaphore: never more than three at once.
  void holder() {
    while (running()) {
      std::optional<Duration> limit;
      if (pick(3) == 0) limit = std::chrono::microseconds(pick(1000));
      if (!permits.acquire(true, limit)) {
        ++counts.timeouts;
        continue;
      }
      ++counts.permits_held;
      counts.max_permits_held = std::max(counts.max_permits_held, counts.permits_held);
      absl::Cleanup release = [this] {
        --counts.permits_held;
        permits.release();
      };
      sleep(std::chrono::microseconds(pick(500)));
    }
  }

  Counts counts;
  Queue<int> queue{16};
  Semaphore permits{3};

 private:
  std::mt19937 random_;
  TimePoint deadline_;
};

TEST(SoakTest, RandomizedLoadLeavesNothingBehind) {
  testing::destroy_this_threads_loop();
  const auto seconds = std::chrono::seconds(env_or("EVERGREEN_SOAK_SECONDS", 5));
  const auto seed = static_cast<uint32_t>(env_or("EVERGREEN_SOAK_SEED", 20261204));
  std::printf("soak: %lld s, seed %u (EVERGREEN_SOAK_SEED to repeat)\n",
              static_cast<long long>(seconds.count()), seed);

  sleep(0s);  // the loop exists before the baseline is taken
  const int fds_before = open_fd_count();
  Soak soak(seed, seconds);
  EchoServer server;
  server.bind({"127.0.0.1", 0});
  io::Address address = server.sockname();
  auto serving = spawn([&] { server.serve(); });

  // Every worker respawns when it ends or is killed, until the deadline.
  struct Worker {
    std::shared_ptr<Task> task;
    int kind;
  };
  std::vector<Worker> workers;
  auto start = [&](int kind) -> std::shared_ptr<Task> {
    switch (kind) {
      case 0:
        return spawn([&] {
          try {
            soak.client(address);
          } catch (const io::StreamError&) {
            // A reset from the server closing: this client's run ends early.
          }
        });
      case 1:
        return spawn([&] { soak.producer(); });
      case 2:
        return spawn([&] { soak.consumer(); });
      default:
        return spawn([&] { soak.holder(); });
    }
  };
  for (int i = 0; i < 40; ++i) workers.push_back({start(0), 0});
  for (int kind = 1; kind <= 3; ++kind) {
    for (int i = 0; i < 8; ++i) workers.push_back({start(kind), kind});
  }

  std::optional<size_t> warm_rss;
  const auto warm_at = std::chrono::steady_clock::now() + seconds / 3;
  Timeout bound(seconds + 120s);  // a hang fails the test instead of the run
  try {
    while (soak.running()) {
      sleep(std::chrono::microseconds(200 + soak.pick(2000)));
      Worker& victim = workers[soak.pick(static_cast<uint32_t>(workers.size()))];
      if (victim.task->is_alive()) {
        victim.task->kill();
        ++soak.counts.kills;
      }
      for (Worker& worker : workers) {
        if (!worker.task->is_alive() && soak.running()) worker.task = start(worker.kind);
      }
      if (!warm_rss && std::chrono::steady_clock::now() >= warm_at) warm_rss = resident_bytes();
    }
    for (Worker& worker : workers) {
      EXPECT_TRUE(worker.task->join(30s)) << "a worker did not end after the deadline";
    }
    // Consumers are gone: whatever is queued stays for the count below.
    server.close();
    EXPECT_TRUE(serving->join(30s));
  } catch (const Timeout& fired) {
    if (!fired.is(bound)) throw;
    ADD_FAILURE() << "the soak did not finish in time";
    for (Worker& worker : workers) worker.task->kill();
    server.close();
  }

  const Counts& counts = soak.counts;
  std::printf(
      "soak: %ld connections (%ld served), %ld round trips, %ld kills, %ld timeouts, %ld puts, "
      "%ld gets\n",
      counts.connections, server.served, counts.round_trips, counts.kills, counts.timeouts,
      counts.puts, counts.gets);
  EXPECT_EQ(counts.bad_echoes, 0);
  EXPECT_GT(counts.round_trips, 0);
  EXPECT_GT(counts.kills, 0);
  EXPECT_GT(counts.timeouts, 0);
  // No item lost or duplicated, however puts and gets were interrupted.
  EXPECT_EQ(counts.puts, counts.gets + static_cast<long>(soak.queue.qsize()));
  EXPECT_LE(counts.max_permits_held, 3);
  EXPECT_EQ(counts.permits_held, 0);
  EXPECT_EQ(soak.permits.value(), 3);
  EXPECT_TRUE(server.connections().empty());
  EXPECT_EQ(open_fd_count(), fds_before) << "fds were left open";
  ASSERT_TRUE(warm_rss.has_value());
  size_t rss_now = resident_bytes();
  std::printf("soak: resident %zu MiB once warm, %zu MiB at the end\n", *warm_rss >> 20,
              rss_now >> 20);
  EXPECT_LE(rss_now, *warm_rss + kAllowedGrowth) << "memory grew through the run";
}

}  // namespace
}  // namespace evergreen
