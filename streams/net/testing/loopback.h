// -----------------------------------------------------------------------------
// File: net/testing/loopback.h
// -----------------------------------------------------------------------------
//
// What the loopback tests of //streams/net share: what loopback_basics.h
// has (running a coroutine with a time bound, a line echo callback), a short
// Unix socket path, and TLS contexts for the test certificates in
// testdata/tls (add "//testdata/tls" to the test's data).

#ifndef STREAMS_NET_TESTING_LOOPBACK_H_
#define STREAMS_NET_TESTING_LOOPBACK_H_

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gtest/gtest.h"
#include "streams/net/testing/loopback_basics.h"
#include "streams/net/tls.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace streams::testing {

// A Unix socket path in a new directory under /tmp (Bazel's TEST_TMPDIR is
// too long for AF_UNIX's 108 bytes); both are removed by the destructor.
class UnixPath {
 public:
  UnixPath() {
    char directory[] = "/tmp/streams_test_XXXXXX";
    if (mkdtemp(directory) != nullptr) directory_ = directory;
    path_ = directory_ + "/s.sock";
  }
  ~UnixPath() {
    unlink(path_.c_str());
    rmdir(directory_.c_str());
  }
  UnixPath(const UnixPath&) = delete;
  UnixPath& operator=(const UnixPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string directory_;
  std::string path_;
};

// The test server's certificate (localhost, 127.0.0.1, ::1) and key.
inline boost::asio::ssl::context ServerTlsContext() {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_server);
  context.use_certificate_chain_file("testdata/tls/server.pem");
  context.use_private_key_file("testdata/tls/server.key",
                               boost::asio::ssl::context::pem);
  return context;
}

// A client context with Python's defaults that also trusts the test CA.
inline boost::asio::ssl::context ClientTlsContext() {
  boost::asio::ssl::context context = net::MakeClientTlsContext();
  context.load_verify_file("testdata/tls/ca.pem");
  return context;
}

}  // namespace streams::testing

#endif  // STREAMS_NET_TESTING_LOOPBACK_H_
