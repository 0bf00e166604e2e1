"""Compiler flags shared by every C++ target of this repository."""

# Our code compiles warning-free; system headers come in with -isystem, so
# their warnings never reach -Werror.
ASYNCIO_STREAMS_COPTS = [
    "-std=c++20",
    "-Wall",
    "-Wextra",
    "-Werror",
]
