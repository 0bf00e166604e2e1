// A header whose one operation states its whole contract (the checker's
// test: tools/check_contracts_test.py).

// Thing::AsyncFrob()
//
// Frobs.
//
// Completion: void(absl::Status). Never inside this call.
// Errors: kUnavailable ConnectionResetError.
// Cancellation: terminal, partial, total.
// Concurrency: one at a time.
template <typename CompletionToken>
auto AsyncFrob(CompletionToken&& token);
template <typename CompletionToken>
auto AsyncFrob(int n, CompletionToken&& token);  // an overload: same block
