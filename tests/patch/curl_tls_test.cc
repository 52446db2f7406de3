// Unmodified libcurl (its own OpenSSL inside) fetching https://localhost from
// an evergreen TLSServer in the same process: curl's blocking calls are made
// cooperative by patch(), so the server's tasks run while a transfer waits.
// The certificates come from tests/io/tls_certs.h; curl verifies ours.
#include <curl/curl.h>

#include <memory>
#include <string>

#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "tests/io/tls_certs.h"

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::TlsCerts;

size_t append_to_string(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string error;
};

Fetched fetch(const std::string& url, const std::string& ca_file) {
  Fetched result;
  char error[CURL_ERROR_SIZE] = "";
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  if (!ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
  result.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_cleanup(easy);
  result.error = error;
  return result;
}

class CurlTlsTest : public PatchedTest {
 protected:
  static void SetUpTestSuite() {
    TlsCerts::get();  // before patch(): the openssl tool runs through system()
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  }
  static void TearDownTestSuite() { curl_global_cleanup(); }
};

TEST_F(CurlTlsTest, CurlFetchesHttpsFromATlsServer) {
  const TlsCerts& certs = TlsCerts::get();
  io::TLSContext context = io::TLSContext::server(certs.server.cert, certs.server.key);
  context.set_alpn({"http/1.1"});
  int requests = 0;
  io::TLSServer server(context, [&](std::shared_ptr<io::StreamConnection> connection) {
    std::string request = connection->read_until("\r\n\r\n");
    ++requests;
    std::string path = request.substr(4, request.find(' ', 4) - 4);
    std::string body = "secure " + path;
    connection->write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n" + body);
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  std::string base = "https://localhost:" + std::to_string(server.sockname().port);

  Fetched verified;
  Fetched untrusted;
  auto fetching = spawn([&] {
    verified = fetch(base + "/page", certs.ca.cert);
    untrusted = fetch(base + "/other", "");  // the system store lacks the test CA
  });
  fetching->join();
  server.close();
  serving->join();

  EXPECT_EQ(verified.code, CURLE_OK) << verified.error;
  EXPECT_EQ(verified.status, 200);
  EXPECT_EQ(verified.body, "secure /page");
  EXPECT_EQ(untrusted.code, CURLE_PEER_FAILED_VERIFICATION) << untrusted.error;
  EXPECT_EQ(requests, 1);
}

}  // namespace
}  // namespace evergreen
