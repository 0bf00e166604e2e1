#include "streams/net/connect.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "streams/errors.h"
#include "streams/internal/deliver.h"

namespace streams::net {

namespace asio = ::boost::asio;

using asio::ip::tcp;

std::string PythonAddress(const tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6()) {
    return absl::StrCat("('", endpoint.address().to_string(), "', ",
                        endpoint.port(), ", 0, ",
                        endpoint.address().to_v6().scope_id(), ")");
  }
  return absl::StrCat("('", endpoint.address().to_string(), "', ",
                      endpoint.port(), ")");
}

namespace {

// asyncio: one error as it is; several alike as the first; else
// OSError('Multiple exceptions: ...').
absl::Status Combine(const std::vector<absl::Status>& errors) {
  bool alike = true;
  for (const absl::Status& error : errors) {
    alike = alike && error.message() == errors.front().message();
  }
  if (alike) return errors.front();
  return MakeError(
      ErrorKind::kOSError,
      absl::StrCat("Multiple exceptions: ",
                   absl::StrJoin(errors, ", ",
                                 [](std::string* out, const absl::Status& s) {
                                   absl::StrAppend(out, s.message());
                                 })));
}

class Race : public std::enable_shared_from_this<Race> {
 public:
  Race(const asio::any_io_executor& executor,
       std::vector<tcp::endpoint> endpoints, ConnectOptions options,
       ConnectHandler handler)
      : executor_(executor),
        endpoints_(std::move(endpoints)),
        options_(std::move(options)),
        handler_(std::move(handler)),
        timer_(executor) {}

  void Start() {
    auto slot = asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) {
      slot.assign([weak = weak_from_this()](asio::cancellation_type_t type) {
        if (type == asio::cancellation_type::none) return;
        if (auto race = weak.lock()) {
          asio::dispatch(race->executor_,
                         [race] { race->Finish(CancelledError()); });
        }
      });
    }
    if (endpoints_.empty()) {
      return asio::post(executor_, [self = shared_from_this()] {
        self->Finish(
            MakeError(ErrorKind::kOSError, "getaddrinfo returned empty list"));
      });
    }
    StartNext();
  }

 private:
  void StartNext() {
    while (!finished_ && next_ < endpoints_.size()) {
      const size_t index = next_++;
      auto socket = std::make_shared<tcp::socket>(executor_);
      boost::system::error_code error;
      socket->open(endpoints_[index].protocol(), error);
      if (!error && options_.local_addr) {
        socket->set_option(asio::socket_base::reuse_address(true), error);
        if (!error) socket->bind(*options_.local_addr, error);
      }
      if (error) {
        errors_.push_back(OsError(error));
        continue;  // Try the next address at once.
      }
      sockets_.push_back(socket);
      ++running_;
      socket->async_connect(endpoints_[index],
                            [self = shared_from_this(), socket,
                             index](boost::system::error_code error) {
                              self->OnConnect(*socket, index, error);
                            });
      if (options_.happy_eyeballs_delay) {
        timer_.expires_after(*options_.happy_eyeballs_delay);
        // A failed attempt cancels the timer and starts the next one at
        // once; a handler already queued by then must not start another.
        timer_.async_wait([self = shared_from_this(),
                           attempt = next_](boost::system::error_code error) {
          if (!error && self->next_ == attempt) self->StartNext();
        });
      }
      return;
    }
    if (!finished_ && running_ == 0) Finish(Combine(errors_));
  }

  void OnConnect(tcp::socket& socket, size_t index,
                 boost::system::error_code error) {
    --running_;
    if (finished_) return;
    if (!error) {
      tcp::socket winner = std::move(socket);
      return Finish(std::move(winner));
    }
    errors_.push_back(OsError(
        error, absl::StrCat("[Errno ", error.value(), "] Connect call failed ",
                            PythonAddress(endpoints_[index]))));
    timer_.cancel();
    StartNext();  // On failure the next attempt starts at once.
  }

  void Finish(absl::StatusOr<tcp::socket> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    for (const auto& socket : sockets_) {
      boost::system::error_code ignored;
      if (socket->is_open()) socket->close(ignored);
    }
    internal::Deliver(std::move(handler_), std::move(result), executor_);
  }

  asio::any_io_executor executor_;
  std::vector<tcp::endpoint> endpoints_;
  ConnectOptions options_;
  ConnectHandler handler_;
  asio::steady_timer timer_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<absl::Status> errors_;
  size_t next_ = 0;
  int running_ = 0;
  bool finished_ = false;
};

}  // namespace

std::vector<tcp::endpoint> InterleaveByFamily(
    const std::vector<tcp::endpoint>& endpoints, int first_family_count) {
  std::vector<std::vector<tcp::endpoint>> families;
  for (const tcp::endpoint& endpoint : endpoints) {
    auto it =
        std::find_if(families.begin(), families.end(),
                     [&](const std::vector<tcp::endpoint>& family) {
                       return family.front().protocol() == endpoint.protocol();
                     });
    if (it == families.end()) {
      families.push_back({endpoint});
    } else {
      it->push_back(endpoint);
    }
  }
  std::vector<tcp::endpoint> out;
  if (families.empty()) return out;
  if (first_family_count > 1) {
    const size_t first =
        std::min<size_t>(first_family_count - 1, families[0].size());
    out.insert(out.end(), families[0].begin(), families[0].begin() + first);
    families[0].erase(families[0].begin(), families[0].begin() + first);
  }
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (const auto& family : families) {
      if (round < family.size()) {
        out.push_back(family[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

void StartConnect(const asio::any_io_executor& executor,
                  std::vector<tcp::endpoint> endpoints, ConnectOptions options,
                  ConnectHandler handler) {
  auto race = std::make_shared<Race>(executor, std::move(endpoints),
                                     std::move(options), std::move(handler));
  race->Start();
}

}  // namespace streams::net
