// hiredis' blocking API, unmodified, made cooperative by patch(), against a
// real redis-server the test starts: many tasks run commands in parallel,
// and a task blocked in BLPOP stalls nobody.
#include <hiredis/hiredis.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "redis_server.h"

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::RedisServer;
using testing::Stopwatch;

class HiredisTest : public PatchedTest {
 protected:
  // One server for the whole suite, started by the first test. A missing or
  // broken redis-server fails every test; none is skipped.
  void SetUp() override {
    PatchedTest::SetUp();
    if (server_ == nullptr) {
      try {
        server_ = std::make_unique<RedisServer>();
      } catch (const std::exception& error) {
        FAIL() << error.what();
      }
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  // Plain blocking hiredis: connect, run one command, return the reply as
  // text ("(nil)" for a null reply, "error: ..." on failure).
  static redisContext* connect() {
    redisContext* context = redisConnect("127.0.0.1", server_->port());
    EXPECT_NE(context, nullptr);
    EXPECT_EQ(context->err, 0) << context->errstr;
    return context;
  }
  static std::string command(redisContext* context, const std::vector<std::string>& words) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& word : words) {
      argv.push_back(word.data());
      lengths.push_back(word.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) return std::string("error: ") + context->errstr;
    std::string text;
    switch (reply->type) {
      case REDIS_REPLY_NIL:
        text = "(nil)";
        break;
      case REDIS_REPLY_ARRAY:
        for (size_t i = 0; i < reply->elements; ++i) {
          if (i > 0) text += ",";
          text.append(reply->element[i]->str, reply->element[i]->len);
        }
        break;
      case REDIS_REPLY_INTEGER:
        text = std::to_string(reply->integer);
        break;
      default:
        text.assign(reply->str, reply->len);
    }
    freeReplyObject(reply);
    return text;
  }

  static inline std::unique_ptr<RedisServer> server_;
};

TEST_F(HiredisTest, FiftyTasksSetAndGetWhileOneBlocksInBlpop) {
  constexpr int kTasks = 50;
  Stopwatch stopwatch;
  std::optional<double> blpop_returned_at;
  std::string blpop_reply;
  auto blocked = spawn([&] {
    redisContext* context = connect();
    command(context, {"DEL", "empty-list"});
    blpop_reply = command(context, {"BLPOP", "empty-list", "1"});
    blpop_returned_at = stopwatch.seconds();
    redisFree(context);
  });
  std::vector<std::string> got(kTasks);
  std::vector<double> finished_at(kTasks);
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(spawn([&, i] {
      redisContext* context = connect();
      std::string key = "key:" + std::to_string(i);
      EXPECT_EQ(command(context, {"SET", key, "value:" + std::to_string(i)}), "OK");
      got[i] = command(context, {"GET", key});
      redisFree(context);
      finished_at[i] = stopwatch.seconds();
    }));
  }
  for (auto& task : tasks) task->join();
  blocked->join();
  EXPECT_EQ(blpop_reply, "(nil)");
  ASSERT_TRUE(blpop_returned_at.has_value());
  for (int i = 0; i < kTasks; ++i) {
    EXPECT_EQ(got[i], "value:" + std::to_string(i));
    // Done before the BLPOP's one second was over: it stalled nobody. (Not a
    // fixed bound: a loaded sanitizer build took 0.82 s for all 50.)
    EXPECT_LT(finished_at[i], *blpop_returned_at) << "task " << i;
  }
  EXPECT_GE(*blpop_returned_at, 0.9);
  EXPECT_LT(stopwatch.seconds(), 3.0);
}

TEST_F(HiredisTest, BlpopWakesWhenAnotherTaskPushes) {
  std::string popped;
  Stopwatch stopwatch;
  auto waiter = spawn([&] {
    redisContext* context = connect();
    command(context, {"DEL", "jobs"});
    popped = command(context, {"BLPOP", "jobs", "5"});
    redisFree(context);
  });
  auto pusher = spawn([&] {
    ::usleep(100'000);
    redisContext* context = connect();
    EXPECT_EQ(command(context, {"RPUSH", "jobs", "job-1"}), "1");
    redisFree(context);
  });
  waiter->join();
  pusher->join();
  EXPECT_EQ(popped, "jobs,job-1");
  EXPECT_LT(stopwatch.seconds(), 2.0);
}

TEST_F(HiredisTest, ConnectingToNothingFailsCleanly) {
  uint16_t port = RedisServer::free_port();  // nothing listens there
  int error = 0;
  spawn([&] {
    redisContext* context = redisConnect("127.0.0.1", port);
    ASSERT_NE(context, nullptr);
    error = context->err;
    redisFree(context);
  })->join();
  EXPECT_EQ(error, REDIS_ERR_IO);
}

}  // namespace
}  // namespace evergreen
