// libcurl's blocking easy API, unmodified, made cooperative by patch(): many
// tasks each run curl_easy_perform() against a local server that answers
// after 200 ms, and the transfers overlap.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "slow_http_server.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::SlowHttpServer;
using testing::Stopwatch;

size_t append_to_string(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
};

// Plain blocking libcurl, as any program would write it.
Fetched fetch(const std::string& url) {
  Fetched result;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  result.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_cleanup(easy);
  return result;
}

class CurlTest : public PatchedTest {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK); }
  static void TearDownTestSuite() { curl_global_cleanup(); }
};

TEST_F(CurlTest, HundredTransfersInTasksOverlap) {
  constexpr int kTransfers = 100;
  SlowHttpServer server(200ms);
  std::vector<Fetched> results(kTransfers);
  std::vector<std::shared_ptr<Task>> tasks;
  Stopwatch stopwatch;
  for (int i = 0; i < kTransfers; ++i) {
    tasks.push_back(spawn([&results, &server, i] {
      results[i] = fetch(server.base_url() + "/page/" + std::to_string(i));
    }));
  }
  for (auto& task : tasks) task->join();
  double elapsed = stopwatch.seconds();
  server.close();
  std::printf("curl: %d transfers of a 200 ms page took %.3f s\n", kTransfers, elapsed);
  // One after another they would take 20 s.
  EXPECT_LT(elapsed, 3.0 * testing::kTimingSlack);
  for (int i = 0; i < kTransfers; ++i) {
    EXPECT_EQ(results[i].code, CURLE_OK) << curl_easy_strerror(results[i].code);
    EXPECT_EQ(results[i].status, 200);
    EXPECT_EQ(results[i].body, SlowHttpServer::body_for("/page/" + std::to_string(i)));
  }
}

TEST_F(CurlTest, OtherTasksRunDuringATransfer) {
  SlowHttpServer server(300ms);
  Fetched result;
  int ticks = 0;
  auto transfer = spawn([&] { result = fetch(server.base_url() + "/one"); });
  auto ticker = spawn([&] {
    while (transfer->is_alive()) {
      sleep(10ms);
      ++ticks;
    }
  });
  transfer->join();
  ticker->join();
  server.close();
  EXPECT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.body, "body of /one");
  EXPECT_GE(ticks, 20);
}

TEST_F(CurlTest, ConnectionRefusedIsAnErrorNotAHang) {
  uint16_t port;
  {
    SlowHttpServer server(0ms);
    port = server.port();
  }  // closed: nothing listens there now
  Fetched result;
  spawn([&] { result = fetch("http://127.0.0.1:" + std::to_string(port) + "/"); })->join();
  EXPECT_EQ(result.code, CURLE_COULDNT_CONNECT);
}

TEST_F(CurlTest, KillingATaskEndsItsTransfer) {
  SlowHttpServer server(5s);
  Fetched result;
  bool returned = false;
  auto victim = spawn([&] {
    result = fetch(server.base_url() + "/slow");
    returned = true;  // curl gave up with an error and returned normally
  });
  sleep(100ms);
  Stopwatch stopwatch;
  victim->kill();
  victim->join();
  EXPECT_LT(stopwatch.seconds(), 1.0);
  EXPECT_TRUE(returned);
  EXPECT_NE(result.code, CURLE_OK);
  server.close();
}

// The usual pattern: a Timeout around the blocking call, its scope ending
// before the next evergreen call. curl gives up promptly with an error, and
// the Timeout is raised at the task's next suspension point.
TEST_F(CurlTest, ATimeoutAroundATransferEndsItAndIsRaisedAfterTheScope) {
  SlowHttpServer server(5s);
  Fetched result;
  bool raised = false;
  auto transfer = spawn([&] {
    {
      Timeout timeout(100ms);
      result = fetch(server.base_url() + "/slow");
    }
    raised = testing::timeout_raised_at_next_suspension();
  });
  Stopwatch stopwatch;
  transfer->join();
  std::printf("curl under a fired Timeout returned %d (%s)\n", static_cast<int>(result.code),
              curl_easy_strerror(result.code));
  EXPECT_LT(stopwatch.seconds(), 2.0 * testing::kTimingSlack);
  EXPECT_NE(result.code, CURLE_OK);
  EXPECT_TRUE(raised);
  server.close();
}

}  // namespace
}  // namespace evergreen
