#include "evergreen/io/internal/tls_library_context.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include <cstring>
#include <vector>

namespace evergreen::io::internal {
namespace {

constexpr const char* kProviderName = "evergreen-tls-certificates";

// OpenSSL's default provider in the default library context, and the part of
// its decoder list that certificates use. Filled once, before the forwarding
// provider is loaded (OpenSSL calls the provider's functions with the default
// provider's context, so they find this through the one static below).
struct Forwarded {
  OSSL_PROVIDER* provider = nullptr;
  std::vector<OSSL_ALGORITHM> certificate_decoders;  // ends with an all-null entry
};

// Never destroyed: a TLS connection may still be parsing a certificate while
// the process exits and static objects go.
Forwarded& forwarded() {
  static Forwarded& instance = *new Forwarded;
  return instance;
}

// A decoder certificates need: DER SubjectPublicKeyInfo to a key (any type:
// a CA bundle or a peer's chain may hold RSA, EC, EdDSA, ... keys).
bool decodes_certificate_keys(const OSSL_ALGORITHM& algorithm) {
  const char* properties = algorithm.property_definition;
  return properties != nullptr && std::strstr(properties, "input=der") != nullptr &&
         std::strstr(properties, "structure=SubjectPublicKeyInfo") != nullptr;
}

const OSSL_ALGORITHM* query_operation(void* /*provider_context*/, int operation, int* no_cache) {
  if (operation == OSSL_OP_DECODER) {
    *no_cache = 0;
    return forwarded().certificate_decoders.data();
  }
  return OSSL_PROVIDER_query_operation(forwarded().provider, operation, no_cache);
}

void unquery_operation(void* /*provider_context*/, int operation,
                       const OSSL_ALGORITHM* algorithms) {
  if (operation == OSSL_OP_DECODER) return;  // our own list
  OSSL_PROVIDER_unquery_operation(forwarded().provider, operation, algorithms);
}

// TLS groups and signature algorithms are provider capabilities: libssl asks
// for them when it makes an SSL_CTX.
int get_capabilities(void* /*provider_context*/, const char* capability, OSSL_CALLBACK* callback,
                     void* argument) {
  return OSSL_PROVIDER_get_capabilities(forwarded().provider, capability, callback, argument);
}

int get_params(void* /*provider_context*/, OSSL_PARAM params[]) {
  return OSSL_PROVIDER_get_params(forwarded().provider, params);
}

void teardown(void* /*provider_context*/) {}  // the default provider outlives us

const OSSL_DISPATCH kDispatch[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)()>(query_operation)},
    {OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, reinterpret_cast<void (*)()>(unquery_operation)},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, reinterpret_cast<void (*)()>(get_capabilities)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, reinterpret_cast<void (*)()>(get_params)},
    {OSSL_FUNC_PROVIDER_TEARDOWN, reinterpret_cast<void (*)()>(teardown)},
    {0, nullptr},
};

// The algorithms run as the default provider's own: with its provider context,
// so whatever they fetch inside comes from the default library context.
int initialize(const OSSL_CORE_HANDLE* /*core*/, const OSSL_DISPATCH* /*from_core*/,
               const OSSL_DISPATCH** to_core, void** provider_context) {
  *to_core = kDispatch;
  *provider_context = OSSL_PROVIDER_get0_provider_ctx(forwarded().provider);
  return 1;
}

// Made once per process; nullptr when OpenSSL would not cooperate (then the
// default library context is used, as without this file).
OSSL_LIB_CTX* make_library_context() {
  Forwarded& state = forwarded();
  state.provider = OSSL_PROVIDER_load(nullptr, "default");
  if (state.provider == nullptr) return nullptr;
  int no_cache = 0;
  const OSSL_ALGORITHM* decoders =
      OSSL_PROVIDER_query_operation(state.provider, OSSL_OP_DECODER, &no_cache);
  for (const OSSL_ALGORITHM* it = decoders; it != nullptr && it->algorithm_names != nullptr; ++it) {
    if (decodes_certificate_keys(*it)) state.certificate_decoders.push_back(*it);
  }
  state.certificate_decoders.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  if (state.certificate_decoders.size() == 1) return nullptr;  // not the provider we know
  OSSL_LIB_CTX* context = OSSL_LIB_CTX_new();
  if (context == nullptr) return nullptr;
  if (OSSL_PROVIDER_add_builtin(context, kProviderName, initialize) != 1 ||
      OSSL_PROVIDER_load(context, kProviderName) == nullptr) {
    OSSL_LIB_CTX_free(context);
    return nullptr;
  }
  return context;  // kept for the life of the process
}

int count_other_provider(OSSL_PROVIDER* provider, void* others) {
  if (std::strcmp(OSSL_PROVIDER_get0_name(provider), "default") != 0) {
    ++*static_cast<int*>(others);
  }
  return 1;
}

bool only_default_provider() {
  int others = 0;
  OSSL_PROVIDER_do_all(nullptr, count_other_provider, &others);
  return others == 0;
}

}  // namespace

OSSL_LIB_CTX* tls_library_context() {
  // openssl.cnf (and the providers it activates) is read here at the latest.
  OPENSSL_init_ssl(0, nullptr);
  if (!only_default_provider() || EVP_default_properties_is_fips_enabled(nullptr) != 0) {
    return nullptr;
  }
  static OSSL_LIB_CTX* const context = make_library_context();
  return context;
}

}  // namespace evergreen::io::internal
