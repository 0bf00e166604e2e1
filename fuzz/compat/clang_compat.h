// -----------------------------------------------------------------------------
// File: fuzz/compat/clang_compat.h
// -----------------------------------------------------------------------------
//
// Force-included into every C++ file of the libFuzzer build (tools/fuzz.sh
// passes `-include clang_compat.h` through the toolchain's BAZEL_CXXOPTS), to
// work around a clang-only compile error in //streams that the fuzz targets
// cannot fix from outside:
//
//   streams/stream_reader_protocol.h declares
//     Create(const StreamReader&, ClientConnectedCallback = nullptr)
//   where ClientConnectedCallback is absl::AnyInvocable<void(StreamReader,
//   StreamWriter)> and StreamWriter is still incomplete (stream_writer.h
//   includes this header before defining it). To convert `nullptr`, clang 14
//   considers AnyInvocable's converting constructor and asks libstdc++ 12 for
//   std::invoke_result<nullptr_t&, StreamReader, StreamWriter>, which
//   static_asserts that its argument types are complete. g++ 12 never gets
//   there. (The fix in streams/ is `= {}`, or an overload without the
//   callback; until then clang cannot build the protocol or the writer.)
//
// The specialization below answers that one question ("is nullptr
// invocable?") with "no" without looking at the argument types, which is
// what libstdc++ would answer for complete types, so overload resolution
// picks AnyInvocable(nullptr_t) as it does under g++. Formally a program may
// not specialize std::invoke_result; this file is confined to the fuzz build
// and goes away with the fix above.

#ifndef FUZZ_COMPAT_CLANG_COMPAT_H_
#define FUZZ_COMPAT_CLANG_COMPAT_H_

#if defined(__clang__) && defined(__cplusplus)

#include <cstddef>
#include <type_traits>

namespace streams {
class StreamReader;
class StreamWriter;
}  // namespace streams

template <>
struct std::invoke_result<std::nullptr_t&, streams::StreamReader,
                          streams::StreamWriter> {};

#endif  // defined(__clang__) && defined(__cplusplus)

#endif  // FUZZ_COMPAT_CLANG_COMPAT_H_
