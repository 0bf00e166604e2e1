#include "streams/net/tls_layer.h"

#include <atomic>

#include "streams/errors.h"

namespace streams::net::tls_layer {
namespace {

// Constant-initialized: registration at static initialization cannot run
// before it.
constinit std::atomic<const TlsLayer*> registered{nullptr};

}  // namespace

void RegisterTlsLayer(const TlsLayer* layer) {
  registered.store(layer, std::memory_order_release);
}

const TlsLayer* RegisteredTlsLayer() {
  return registered.load(std::memory_order_acquire);
}

absl::Status TlsNotLinkedError() {
  return MakeError(ErrorKind::kNotImplementedError,
                   "TLS support is not linked in: depend on //streams/net:tls "
                   "(CMake: asyncio_streams::tls) and include "
                   "streams/net/tls.h");
}

}  // namespace streams::net::tls_layer
