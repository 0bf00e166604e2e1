// -----------------------------------------------------------------------------
// File: streams.h
// -----------------------------------------------------------------------------
//
// asyncio streams (CPython 3.11.7) for Boost.Asio: the whole public API of
// //streams. See README.md and each header.

#ifndef STREAMS_STREAMS_H_
#define STREAMS_STREAMS_H_

#include "streams/deadline.h"                // IWYU pragma: export
#include "streams/errors.h"                  // IWYU pragma: export
#include "streams/flow_control.h"            // IWYU pragma: export
#include "streams/net/open_connection.h"     // IWYU pragma: export
#include "streams/net/server.h"              // IWYU pragma: export
#include "streams/net/tls.h"                 // IWYU pragma: export
#include "streams/protocol.h"                // IWYU pragma: export
#include "streams/stream_reader.h"           // IWYU pragma: export
#include "streams/stream_reader_protocol.h"  // IWYU pragma: export
#include "streams/stream_writer.h"           // IWYU pragma: export
#include "streams/transport.h"               // IWYU pragma: export
#include "streams/version.h"                 // IWYU pragma: export

#endif  // STREAMS_STREAMS_H_
