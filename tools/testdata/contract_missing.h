// Operations that each lack part of their contract (the checker's test:
// tools/check_contracts_test.py).

// AsyncNoCancellation()
//
// Completion: void(absl::Status). Never inside this call.
// Errors: kUnavailable ConnectionResetError.
// Concurrency: one at a time.
template <typename CompletionToken>
auto AsyncNoCancellation(CompletionToken&& token);

// AsyncVagueErrors()
//
// Completion: void(absl::Status). Never inside this call.
// Errors: whatever happens.
// Cancellation: terminal.
// Concurrency: one at a time.
template <typename CompletionToken>
auto AsyncVagueErrors(CompletionToken&& token);

template <typename CompletionToken>
auto AsyncUndocumented(CompletionToken&& token);
