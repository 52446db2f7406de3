// How much stack unmodified blocking libraries need inside a task under
// patch(): libcurl with OpenSSL fetching https:// from a TLS server in the
// same process, and hiredis talking to a real redis-server. Each runs in a
// task with the default stack size, and its high-water mark must stay below
// half the default: the margin fiber.h promises for such libraries. The
// figures are printed (and recorded as test properties) for fiber.h's table;
// run with --test_output=all to see them.
#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>
#include <string>

#include "evergreen/fiber/fiber.h"
#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "redis_server.h"
#include "stack_high_water.h"
#include "tests/io/tls_certs.h"

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::RedisServer;
using testing::StackHighWater;
using testing::TlsCerts;

// Sanitized builds grow frames (redzones, shadow bookkeeping): the margin is
// checked in the default build only, where the figures in fiber.h come from.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

size_t append_to_string(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

void report(const char* what, size_t used) {
  std::printf("stack high-water mark, %s: %zu bytes (default stack %zu bytes)\n", what, used,
              default_stack_size());
  ::testing::Test::RecordProperty(what, std::to_string(used));
}

class StackDepthTest : public PatchedTest {
 protected:
  static void SetUpTestSuite() {
    TlsCerts::get();  // before patch(): the openssl tool runs through system()
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  }
  static void TearDownTestSuite() { curl_global_cleanup(); }
};

// A frame of known size, kept on the real stack even under ASan.
constexpr size_t kKnownFrame = 40000;
__attribute__((noinline, no_sanitize("address"))) int use_known_frame() {
  volatile char frame[kKnownFrame];
  frame[0] = 1;
  frame[kKnownFrame - 1] = 2;
  return frame[0] + frame[kKnownFrame - 1];
}

// The measurement itself: a frame of known size reads as at least that size,
// and not much more.
TEST_F(StackDepthTest, HighWaterMarkSeesAFrameOfKnownSize) {
  size_t used = 0;
  size_t mapping = 0;
  auto task = std::make_shared<Task>(
      [&] {
        StackHighWater mark;
        mapping = mark.stack_size();
        EXPECT_EQ(use_known_frame(), 3);
        used = mark.used();
      },
      "known_frame", 256 * 1024);
  task->start();
  task->join();
  EXPECT_GE(mapping, 256u * 1024);
  EXPECT_GE(used, kKnownFrame);
  EXPECT_LT(used, kKnownFrame + 16 * 1024);
}

TEST_F(StackDepthTest, CurlHttpsFitsTheDefaultStackWithMargin) {
  const TlsCerts& certs = TlsCerts::get();
  io::TLSContext context = io::TLSContext::server(certs.server.cert, certs.server.key);
  io::TLSServer server(context, [](std::shared_ptr<io::StreamConnection> connection) {
    connection->read_until("\r\n\r\n");
    connection->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  const std::string url = "https://localhost:" + std::to_string(server.sockname().port) + "/";

  CURLcode code = CURLE_OK;
  std::string body;
  size_t used = 0;
  size_t stack_size = 0;
  spawn([&] {
    StackHighWater mark;
    stack_size = Fiber::current()->stack_size();
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_string);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(easy, CURLOPT_CAINFO, certs.ca.cert.c_str());
    code = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    used = mark.used();
  })->join();
  server.close();
  serving->join();

  ASSERT_EQ(code, CURLE_OK);
  EXPECT_EQ(body, "ok");
  report("curl_https", used);
  EXPECT_EQ(stack_size, default_stack_size());
  EXPECT_GT(used, 4096u);  // it did run here, on this stack
  if (!kSanitized) {
    EXPECT_LT(used, default_stack_size() / 2)
        << "libcurl+OpenSSL needs more than half the default stack";
  }
}

TEST_F(StackDepthTest, HiredisFitsTheDefaultStackWithMargin) {
  std::unique_ptr<RedisServer> redis;
  try {
    redis = std::make_unique<RedisServer>();
  } catch (const std::exception& error) {
    FAIL() << error.what();
  }
  std::string reply;
  std::string error;
  size_t used = 0;
  spawn([&] {
    StackHighWater mark;
    redisContext* context = redisConnect("127.0.0.1", redis->port());
    if (context == nullptr || context->err != 0) {
      error = context == nullptr ? "redisConnect failed" : context->errstr;
    } else {
      freeReplyObject(redisCommand(context, "SET stack_depth_test %s", "deep"));
      auto* got = static_cast<redisReply*>(redisCommand(context, "GET stack_depth_test"));
      if (got != nullptr && got->type == REDIS_REPLY_STRING) reply.assign(got->str, got->len);
      if (got != nullptr) freeReplyObject(got);
    }
    if (context != nullptr) redisFree(context);
    used = mark.used();
  })->join();

  ASSERT_EQ(error, "");
  EXPECT_EQ(reply, "deep");
  report("hiredis", used);
  EXPECT_GT(used, 4096u);
  if (!kSanitized) {
    EXPECT_LT(used, default_stack_size() / 2) << "hiredis needs more than half the default stack";
  }
}

}  // namespace
}  // namespace evergreen
