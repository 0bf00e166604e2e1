# The GoogleTest unit tests of streams/ and streams/internal/, and loopback
# tests of streams/net/, as CTest tests: one per binary, as Bazel has them.
# They run from the source root, which is where Bazel runs them too (the
# runfiles root): version_test reads VERSION, and the loopback tests read
# testdata/tls/ by relative path (streams/net/testing/loopback.h).
find_package(GTest CONFIG REQUIRED)

# streams/testing/BUILD.bazel's :fake_transport (the other helpers are
# header-only).
add_library(asyncio_streams_testing STATIC streams/testing/fake_transport.cc)
target_compile_options(asyncio_streams_testing PRIVATE ${ASYNCIO_STREAMS_COPTS})
target_link_libraries(asyncio_streams_testing PUBLIC asyncio_streams::core GTest::gmock)

function(asyncio_streams_test source)
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE ${ASYNCIO_STREAMS_COPTS})
  target_link_libraries(${name} PRIVATE asyncio_streams::streams asyncio_streams_testing
                        GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
      TIMEOUT 300)
endfunction()

foreach(test IN ITEMS
    streams/byte_view_test.cc
    streams/deadline_test.cc
    streams/errors_test.cc
    streams/internal/byte_buffer_test.cc
    streams/stream_reader_cancellation_test.cc
    streams/stream_reader_extensions_test.cc
    streams/stream_reader_fast_path_test.cc
    streams/stream_reader_protocol_test.cc
    streams/stream_reader_test.cc
    streams/stream_reader_threads_test.cc
    streams/stream_reader_tokens_test.cc
    streams/version_test.cc
    # Loopback sockets: TCP and Unix echo, then TLS with testdata/tls.
    streams/net/loopback_smoke_test.cc
    streams/net/tls_test.cc)
  asyncio_streams_test(${test})
endforeach()
