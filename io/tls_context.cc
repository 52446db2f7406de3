// TLSContext: OpenSSL's SSL_CTX with evergreen's secure defaults, and the
// callbacks that pick a server's certificate (SNI) and protocol (ALPN).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/raise.h"
#include "evergreen/io/internal/tls_context_state.h"
#include "evergreen/io/internal/tls_library_context.h"
#include "evergreen/io/internal/tls_session.h"
#include "evergreen/io/tls.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::TlsContextState;
using internal::TlsIdentity;

namespace internal {

TlsIdentity::~TlsIdentity() {
  X509_free(certificate);
  EVP_PKEY_free(key);
  sk_X509_pop_free(chain, X509_free);
}

TlsContextState::~TlsContextState() { SSL_CTX_free(ctx); }

}  // namespace internal

namespace {

[[noreturn]] void raise_tls(int error, const std::string& what) {
  internal::raise_error(ErrorKind::kTLS, error, "evergreen: " + what);
}

// Names the file in every failure; a missing or unreadable file says so
// plainly rather than through OpenSSL's "system library" wording.
void check_readable(const std::string& path, const char* role) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    raise_tls(errno, std::string("cannot read the ") + role + " " + path);
  if (S_ISDIR(info.st_mode)) raise_tls(EISDIR, std::string("cannot read the ") + role + " " + path);
}

[[noreturn]] void raise_bad_file(const std::string& path, const char* role, const char* expected) {
  std::string reasons = internal::take_openssl_errors();
  raise_tls(EINVAL, std::string("the ") + role + " " + path + " is not " + expected +
                        (reasons.empty() ? "" : ": " + reasons));
}

// Loads a certificate chain and its key (PEM) through a scratch SSL_CTX, so
// the checks and messages are OpenSSL's own, and keeps references to them.
std::unique_ptr<TlsIdentity> load_identity(std::string_view cert_chain_file,
                                           std::string_view private_key_file) {
  std::string cert_path(cert_chain_file);
  std::string key_path(private_key_file);
  check_readable(cert_path, "certificate chain file");
  check_readable(key_path, "private key file");
  ERR_clear_error();
  SSL_CTX* scratch = SSL_CTX_new(TLS_method());
  if (scratch == nullptr)
    raise_tls(ENOMEM, "cannot load " + cert_path + ": " + internal::take_openssl_errors());
  absl::Cleanup free_scratch = [scratch] { SSL_CTX_free(scratch); };
  if (SSL_CTX_use_certificate_chain_file(scratch, cert_path.c_str()) != 1) {
    raise_bad_file(cert_path, "certificate chain file", "a PEM certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(scratch, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string reasons = internal::take_openssl_errors();
    if (reasons.find("values mismatch") != std::string::npos ||
        reasons.find("mismatch") != std::string::npos) {
      raise_tls(EINVAL, "the private key file " + key_path +
                            " does not match the certificate in " + cert_path + ": " + reasons);
    }
    raise_tls(EINVAL, "the private key file " + key_path + " is not a PEM private key" +
                          (reasons.empty() ? "" : ": " + reasons));
  }
  if (SSL_CTX_check_private_key(scratch) != 1) {
    raise_tls(EINVAL, "the private key file " + key_path + " does not match the certificate in " +
                          cert_path + ": " + internal::take_openssl_errors());
  }
  auto identity = std::make_unique<TlsIdentity>();
  identity->certificate = SSL_CTX_get0_certificate(scratch);
  X509_up_ref(identity->certificate);
  identity->key = SSL_CTX_get0_privatekey(scratch);
  EVP_PKEY_up_ref(identity->key);
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(scratch, &chain);
  identity->chain = chain != nullptr ? X509_chain_up_ref(chain) : nullptr;
  return identity;
}

void install_identity(SSL_CTX* ctx, const TlsIdentity& identity, std::string_view cert_path) {
  if (SSL_CTX_use_cert_and_key(ctx, identity.certificate, identity.key, identity.chain, 1) != 1) {
    raise_tls(EINVAL, "cannot use the certificate in " + std::string(cert_path) + ": " +
                          internal::take_openssl_errors());
  }
}

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

// SNI: before the server picks its certificate, swaps in the one registered
// for the name the client asked for.
int select_server_name(SSL* ssl, int* /*alert*/, void* arg) {
  auto* state = static_cast<TlsContextState*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  auto found = state->server_names.find(lower(name));
  if (found == state->server_names.end()) return SSL_TLSEXT_ERR_OK;  // the default certificate
  const TlsIdentity& identity = *found->second;
  if (SSL_use_cert_and_key(ssl, identity.certificate, identity.key, identity.chain, 1) != 1) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// ALPN: the first of the server's protocols that the client offers; none
// matching goes on without ALPN.
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void* arg) {
  auto* state = static_cast<TlsContextState*>(arg);
  if (state->alpn_wire.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length,
                            reinterpret_cast<const unsigned char*>(state->alpn_wire.data()),
                            static_cast<unsigned int>(state->alpn_wire.size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<TlsContextState> new_state(bool server) {
  ERR_clear_error();
  auto state = std::make_shared<TlsContextState>();
  state->server = server;
  // Handshakes run in evergreen's library context (cheaper certificate parsing,
  // see tls_library_context.h); files are loaded in OpenSSL's default one.
  state->library_context = internal::tls_library_context();
  state->ctx = SSL_CTX_new_ex(state->library_context, nullptr,
                              server ? TLS_server_method() : TLS_client_method());
  if (state->ctx == nullptr) {
    raise_tls(ENOMEM, "cannot create a TLS context: " + internal::take_openssl_errors());
  }
  SSL_CTX* ctx = state->ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Renegotiation would let a read need a write and a write need a read in
  // the middle of the stream; TLS 1.3 dropped it, and so do we.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // One record per SSL_write, and a retried record may come from another
  // buffer (TlsSession keeps a copy of it).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read ahead: one read(2) takes whatever the socket holds (up to OpenSSL's
  // record buffer) instead of a record header and then its body, two system
  // calls per record. BaseStream waits for the socket only after a read said
  // EAGAIN, which OpenSSL reports only once its own buffer is spent too.
  SSL_CTX_set_read_ahead(ctx, 1);
  if (server) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    static const unsigned char kSessionContext[] = "evergreen";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    // One TLS 1.3 session ticket per handshake, not OpenSSL's two: a client
    // resumes with one, and each ticket costs the server an encryption, a MAC
    // and a record, and the client a session copy (Go's crypto/tls sends one).
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_tlsext_servername_callback(ctx, select_server_name);
    SSL_CTX_set_tlsext_servername_arg(ctx, state.get());
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, state.get());
  } else {
    state->verify_peer = true;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (X509_STORE_set_default_paths_ex(SSL_CTX_get_cert_store(ctx), nullptr, nullptr) != 1) {
      raise_tls(EINVAL, "cannot load the system's trusted certificates: " +
                            internal::take_openssl_errors());
    }
  }
  return state;
}

}  // namespace

TLSContext::TLSContext(std::shared_ptr<TlsContextState> state) : state_(std::move(state)) {}

TLSContext TLSContext::client() { return TLSContext(new_state(false)); }

TLSContext TLSContext::server(std::string_view cert_chain_file, std::string_view private_key_file) {
  TLSContext context(new_state(true));
  context.use_certificate(cert_chain_file, private_key_file);
  return context;
}

bool TLSContext::is_server() const { return state_->server; }

bool TLSContext::verify_peer() const { return state_->verify_peer; }

void TLSContext::load_verify_locations(std::string_view ca_file) {
  std::string path(ca_file);
  check_readable(path, "CA file");
  ERR_clear_error();
  if (X509_STORE_load_file_ex(SSL_CTX_get_cert_store(state_->ctx), path.c_str(), nullptr,
                              nullptr) != 1) {
    raise_bad_file(path, "CA file", "a PEM file of CA certificates");
  }
}

void TLSContext::set_verify_peer(bool verify) {
  state_->verify_peer = verify;
  SSL_CTX_set_verify(state_->ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
}

void TLSContext::use_certificate(std::string_view cert_chain_file,
                                 std::string_view private_key_file) {
  std::unique_ptr<TlsIdentity> identity = load_identity(cert_chain_file, private_key_file);
  install_identity(state_->ctx, *identity, cert_chain_file);
}

void TLSContext::require_client_certificate(bool require) {
  if (!state_->server) {
    throw std::logic_error(
        "evergreen: require_client_certificate() on a client TLSContext: only a server asks "
        "for client certificates");
  }
  state_->verify_peer = require;
  SSL_CTX_set_verify(state_->ctx,
                     require ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE,
                     nullptr);
}

void TLSContext::set_alpn(std::vector<std::string> protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      throw std::invalid_argument("evergreen: set_alpn(): the protocol name '" + protocol +
                                  "' must be 1 to 255 bytes long");
    }
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  if (state_->server) {
    state_->alpn_wire = std::move(wire);
    return;
  }
  // Note: SSL_CTX_set_alpn_protos returns 0 on success.
  if (SSL_CTX_set_alpn_protos(state_->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned int>(wire.size())) != 0) {
    raise_tls(ENOMEM, "set_alpn(): " + internal::take_openssl_errors());
  }
}

void TLSContext::add_server_name(std::string_view name, std::string_view cert_chain_file,
                                 std::string_view private_key_file) {
  if (!state_->server) {
    throw std::logic_error("evergreen: add_server_name(\"" + std::string(name) +
                           "\") on a client TLSContext: only a server picks certificates by name");
  }
  if (name.empty()) {
    throw std::invalid_argument("evergreen: add_server_name(): the host name is empty");
  }
  state_->server_names[lower(name)] = load_identity(cert_chain_file, private_key_file);
}

}  // namespace evergreen::io
