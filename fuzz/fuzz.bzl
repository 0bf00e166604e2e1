"""streams_fuzz_test(): one fuzz target, built two ways from the same source.

- `name`: an ordinary cc_test (the default g++ build, `bazel test //...`)
  that replays the checked-in seed corpus, corpus/<name>/, through the
  target's LLVMFuzzerTestOneInput() (replay_main.cc);
- `name + "_libfuzzer"`: the same source linked with libFuzzer, tagged
  manual. It only builds with clang: `--config=fuzz` (tools/fuzz.sh), in its
  own output base, since Bazel 4.2.3 uses one C++ toolchain per invocation.
"""

load("//tools/build_defs:copts.bzl", "ASYNCIO_STREAMS_COPTS")

def streams_fuzz_test(name, srcs, deps, size = "small"):
    corpus = "corpus/" + name
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs,
        args = [native.package_name() + "/" + corpus],
        copts = ASYNCIO_STREAMS_COPTS,
        data = native.glob([corpus + "/*"]),
        deps = deps + [":replay_main"],
    )
    native.cc_binary(
        name = name + "_libfuzzer",
        testonly = True,
        srcs = srcs,
        copts = ASYNCIO_STREAMS_COPTS,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = deps,
    )
