// TLS contexts are made in evergreen's own OpenSSL library context (whose
// provider lists only the decoders certificates need: cheaper certificate
// parsing in every handshake), unless the program's OpenSSL has any other
// provider available or was asked for FIPS algorithms by default; then they
// are made in OpenSSL's default library context, as before.
//
// Its own test binary: it loads OpenSSL's legacy provider and flips the FIPS
// default property for the whole process while it runs (and undoes both).
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/tls_context_state.h"
#include "evergreen/io/internal/tls_library_context.h"
#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tls_certs.h"
#include "tests/temp_dir.h"

namespace evergreen::testing {
namespace {

using io::StreamConnection;
using io::TLSClient;
using io::TLSConnection;
using io::TLSContext;
using io::TLSError;
using io::TLSServer;

OSSL_LIB_CTX* library_context_of(const TLSContext& context) {
  return context.state()->library_context;
}

void run(const std::string& command) {
  std::string quiet = command + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(quiet.c_str()), 0) << command;
}

// A CA and a server certificate (CN=localhost) and a client certificate
// (CN=client) from it, with keys of the type `-newkey` names.
struct OtherKeyType {
  OtherKeyType(TempDir& dir, const std::string& name, const std::string& newkey) {
    ca = dir.file(name + "_ca.pem");
    ca_key = dir.file(name + "_ca.key");
    run("openssl req -x509 -newkey " + newkey + " -nodes -days 30 -subj '/CN=" + name +
        " CA' -keyout " + ca_key + " -out " + ca);
    issue(dir, name + "_server", "/CN=localhost", "DNS:localhost", newkey, &server, &server_key);
    issue(dir, name + "_client", "/CN=client", "DNS:client", newkey, &client, &client_key);
  }
  void issue(TempDir& dir, const std::string& name, const std::string& subject,
             const std::string& sans, const std::string& newkey, std::string* cert,
             std::string* key) {
    *cert = dir.file(name + ".pem");
    *key = dir.file(name + ".key");
    std::string request = dir.file(name + ".csr");
    std::string extensions = dir.file(name + ".ext");
    run("printf 'subjectAltName=" + sans + "\\n' > " + extensions);
    run("openssl req -new -newkey " + newkey + " -nodes -subj '" + subject + "' -keyout " + *key +
        " -out " + request);
    run("openssl x509 -req -in " + request + " -CA " + ca + " -CAkey " + ca_key +
        " -set_serial 2 -days 30 -extfile " + extensions + " -out " + *cert);
  }
  std::string ca, ca_key, server, server_key, client, client_key;
};

// One echo round trip from a client that verifies the server as
// "localhost" and presents `client_cert`, to a server that requires a client
// certificate from `ca`; returns the subjects each end saw of the other.
std::pair<std::string, std::string> mutual_round_trip(const TLSContext& server_context,
                                                      const TLSContext& client_context) {
  std::string seen_by_server;
  TLSServer server(server_context, [&](std::shared_ptr<StreamConnection> connection) {
    seen_by_server =
        std::static_pointer_cast<TLSConnection>(connection)->peer_certificate_subject();
    for (std::string data; !(data = connection->read_bytes(100)).empty();) connection->write(data);
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  std::string seen_by_client;
  bool finished = bounded([&] {
    TLSClient client;
    client.connect(server.sockname(), client_context, "localhost");
    seen_by_client = client.peer_certificate_subject();
    client.write("ping");
    std::string reply;
    while (reply.size() < 4) reply += client.read_bytes(4 - reply.size());
    EXPECT_EQ(reply, "ping");
  });
  EXPECT_TRUE(finished);
  server.close();
  serving->join(std::chrono::seconds(10));
  return {seen_by_client, seen_by_server};
}

std::pair<std::string, std::string> mutual_round_trip(const std::string& ca,
                                                      const std::string& server_cert,
                                                      const std::string& server_key,
                                                      const std::string& client_cert,
                                                      const std::string& client_key) {
  TLSContext server = TLSContext::server(server_cert, server_key);
  server.load_verify_locations(ca);
  server.require_client_certificate(true);
  TLSContext client = TLSContext::client();
  client.load_verify_locations(ca);
  client.use_certificate(client_cert, client_key);
  return mutual_round_trip(server, client);
}

class TlsLibraryContextTest : public IoTest {};

TEST_F(TlsLibraryContextTest, ContextsAreMadeInEvergreensLibraryContext) {
  const TlsCerts& certs = TlsCerts::get();
  TLSContext client = TLSContext::client();
  TLSContext server = TLSContext::server(certs.server.cert, certs.server.key);
  EXPECT_NE(library_context_of(client), nullptr);
  EXPECT_EQ(library_context_of(client), library_context_of(server));  // one per process
  // Both ends parse a peer certificate there, and sign and verify with keys
  // loaded from files in OpenSSL's default library context.
  auto [seen_by_client, seen_by_server] = mutual_round_trip(
      certs.ca.cert, certs.server.cert, certs.server.key, certs.client.cert, certs.client.key);
  EXPECT_EQ(seen_by_client, "CN=localhost");
  EXPECT_EQ(seen_by_server, "CN=client");
}

// The mechanism itself: in evergreen's library context a certificate's key is
// decoded by evergreen's provider, and the decoders certificates never need
// (PEM, private keys) are not there, so the decoder set-up that every
// handshake's certificate parse pays walks a short list.
TEST_F(TlsLibraryContextTest, TheLibraryContextDecodesCertificateKeysOnly) {
  const TlsCerts& certs = TlsCerts::get();
  OSSL_LIB_CTX* library_context = io::internal::tls_library_context();
  ASSERT_NE(library_context, nullptr);
  BIO* cert_file = BIO_new_file(certs.server.cert.c_str(), "r");
  ASSERT_NE(cert_file, nullptr);
  absl::Cleanup close_cert = [cert_file] { BIO_free(cert_file); };
  X509* certificate = X509_new_ex(library_context, nullptr);
  absl::Cleanup free_certificate = [certificate] { X509_free(certificate); };
  ASSERT_NE(PEM_read_bio_X509(cert_file, &certificate, nullptr, nullptr), nullptr);
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  ASSERT_NE(key, nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(key)),
               "evergreen-tls-certificates");
  EXPECT_TRUE(EVP_PKEY_is_a(key, "EC"));

  // Decoders for a certificate's key: there. For PEM private keys: none.
  auto decoders_for = [&](const char* input, const char* structure, int selection) {
    EVP_PKEY* decoded = nullptr;
    OSSL_DECODER_CTX* decoder = OSSL_DECODER_CTX_new_for_pkey(
        &decoded, input, structure, "EC", selection, library_context, nullptr);
    int count = decoder != nullptr ? OSSL_DECODER_CTX_get_num_decoders(decoder) : 0;
    OSSL_DECODER_CTX_free(decoder);
    ERR_clear_error();
    return count;
  };
  EXPECT_GT(decoders_for("DER", "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY), 0);
  EXPECT_EQ(decoders_for("PEM", nullptr, EVP_PKEY_KEYPAIR), 0);
  EXPECT_EQ(decoders_for("DER", "PrivateKeyInfo", EVP_PKEY_KEYPAIR), 0);
}

// The decoders kept are those of every key type, not only the P-256 keys the
// other tests use.
TEST_F(TlsLibraryContextTest, CertificatesWithRsaAndEd25519KeysStillWork) {
  TempDir dir("tls_key_types");
  for (auto [name, newkey] : {std::pair<std::string, std::string>{"rsa", "rsa:2048"},
                              std::pair<std::string, std::string>{"ed25519", "ed25519"}}) {
    SCOPED_TRACE(name);
    OtherKeyType certs(dir, name, newkey);
    if (HasFatalFailure()) return;
    auto [seen_by_client, seen_by_server] = mutual_round_trip(
        certs.ca, certs.server, certs.server_key, certs.client, certs.client_key);
    EXPECT_EQ(seen_by_client, "CN=localhost");
    EXPECT_EQ(seen_by_server, "CN=client");
  }
}

TEST_F(TlsLibraryContextTest, AnotherProviderKeepsOpenSSLsDefaultLibraryContext) {
  const TlsCerts& certs = TlsCerts::get();
  OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
  ASSERT_NE(legacy, nullptr) << "OpenSSL's legacy provider (ossl-modules/legacy.so) is missing";
  {
    absl::Cleanup unload = [legacy] { OSSL_PROVIDER_unload(legacy); };
    TLSContext client = TLSContext::client();
    TLSContext server = TLSContext::server(certs.server.cert, certs.server.key);
    EXPECT_EQ(library_context_of(client), nullptr);
    EXPECT_EQ(library_context_of(server), nullptr);
    // And they work there as they always did.
    client.load_verify_locations(certs.ca.cert);
    client.use_certificate(certs.client.cert, certs.client.key);
    server.load_verify_locations(certs.ca.cert);
    server.require_client_certificate(true);
    auto [seen_by_client, seen_by_server] = mutual_round_trip(server, client);
    EXPECT_EQ(seen_by_client, "CN=localhost");
    EXPECT_EQ(seen_by_server, "CN=client");
  }
  // The check is made per context: with the provider gone, ours again.
  EXPECT_NE(library_context_of(TLSContext::client()), nullptr);
}

TEST_F(TlsLibraryContextTest, FipsByDefaultKeepsOpenSSLsDefaultLibraryContext) {
  ASSERT_EQ(EVP_default_properties_enable_fips(nullptr, 1), 1);
  absl::Cleanup restore = [] { EVP_default_properties_enable_fips(nullptr, 0); };
  // Without a FIPS provider OpenSSL's default context has no FIPS algorithms:
  // the request is honoured (the context fails now or its handshakes later),
  // not bypassed through a context that ignores it.
  try {
    TLSContext client = TLSContext::client();
    EXPECT_EQ(library_context_of(client), nullptr);
  } catch (const TLSError&) {
    SUCCEED() << "OpenSSL refused to make a TLS context without FIPS algorithms";
  }
}

}  // namespace
}  // namespace evergreen::testing
