#!/bin/sh
# Debian's protoc, found when this repository was set up.
exec "%{PROTOC}" "$@"
