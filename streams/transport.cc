#include "streams/transport.h"

#include <utility>

namespace streams {

void Transport::StartTls(TlsUpgrade upgrade, TlsUpgradeHandler done) {
  (void)upgrade;
  done(absl::UnimplementedError("this transport cannot start TLS"));
}

}  // namespace streams
