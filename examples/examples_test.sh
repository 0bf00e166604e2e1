#!/bin/bash
# Runs the examples as a user would: echo_server with echo_client and with nc,
# chat_server with two nc clients, then stops each server with SIGTERM and
# checks that it exits 0. Every wait is bounded; background processes are
# killed on exit.

set -euo pipefail

BIN="${TEST_SRCDIR:-$0.runfiles}/asyncio_streams/examples"
WORK="$(mktemp -d "${TEST_TMPDIR:-/tmp}/examples_test.XXXXXX")"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.out "$WORK"/*.err; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
}

# wait_for FILE REGEX: waits up to 10 s for a line of FILE to match REGEX.
wait_for() {
  for _ in $(seq 100); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line matching '$2' in $1"
}

# start_server NAME: starts NAME on a free port; sets SERVER_PID and PORT.
start_server() {
  "$BIN/$1" 127.0.0.1 0 >"$WORK/$1.out" 2>"$WORK/$1.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_for "$WORK/$1.out" '^listening on 127\.0\.0\.1:[0-9]+$'
  PORT="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$1.out")"
}

# stop_server NAME: SIGTERM, then expects exit code 0 within 10 s.
stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "$1 still running after SIGTERM"
  local code=0
  wait "$SERVER_PID" || code=$?
  [[ "$code" == 0 ]] || fail "$1 exited with $code after SIGTERM"
  echo "ok: $1 stopped by SIGTERM, exit 0"
}

# expect_eq WHAT GOT WANT
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
  echo "ok: $1"
}

# --- echo_server ------------------------------------------------------------
start_server echo_server
echo "echo_server on port $PORT"

got="$(printf 'hello\nworld\n' | timeout 10 "$BIN/echo_client" 127.0.0.1 "$PORT")"
expect_eq "echo_client, two lines" "$got" $'hello\nworld'

printf 'one\ntwo\nno newline at the end' >"$WORK/input.txt"
got="$(timeout 10 "$BIN/echo_client" 127.0.0.1 "$PORT" <"$WORK/input.txt")"
expect_eq "echo_client, stdin a file" "$got" $'one\ntwo\nno newline at the end'

got="$(seq 1000 | timeout 20 "$BIN/echo_client" 127.0.0.1 "$PORT" | md5sum)"
expect_eq "echo_client, 1000 lines" "$got" "$(seq 1000 | md5sum)"

got="$(printf 'hi\nthere\n' | timeout 10 nc -N 127.0.0.1 "$PORT")"
expect_eq "nc" "$got" $'hi\nthere'

# A client still connected when the server stops: the server closes it.
mkfifo "$WORK/idle.in"
timeout 20 nc 127.0.0.1 "$PORT" <"$WORK/idle.in" >"$WORK/idle.out" &
PIDS+=($!)
exec 5>"$WORK/idle.in"
echo ping >&5
wait_for "$WORK/idle.out" '^ping$'
stop_server echo_server
exec 5>&-

code=0
timeout 10 "$BIN/echo_client" 127.0.0.1 "$PORT" </dev/null \
  2>"$WORK/refused.err" || code=$?
expect_eq "echo_client exit code, no server" "$code" 1
wait_for "$WORK/refused.err" "^ConnectionRefusedError: \[Errno 111\] Connect call failed \('127\.0\.0\.1', $PORT\)"

# --- chat_server ------------------------------------------------------------
start_server chat_server
echo "chat_server on port $PORT"
peer='127\.0\.0\.1:[0-9]+'

mkfifo "$WORK/a.in" "$WORK/b.in"
timeout 30 nc -N 127.0.0.1 "$PORT" <"$WORK/a.in" >"$WORK/a.out" &
PIDS+=($!)
exec 3>"$WORK/a.in"
wait_for "$WORK/chat_server.out" "^$peer joined$"
# (Without 3>&-, b's nc would hold a's pipe open.)
timeout 30 nc -N 127.0.0.1 "$PORT" <"$WORK/b.in" >"$WORK/b.out" 3>&- &
PIDS+=($!)
exec 4>"$WORK/b.in"
wait_for "$WORK/a.out" "^$peer joined$"

echo 'hello from a' >&3
wait_for "$WORK/b.out" "^$peer: hello from a$"
echo 'hello from b' >&4
wait_for "$WORK/a.out" "^$peer: hello from b$"
grep -q 'hello from a' "$WORK/a.out" && fail "a got its own line back"
echo "ok: chat lines reach the other client only"

exec 3>&-  # a leaves
wait_for "$WORK/b.out" "^$peer left$"
echo "ok: chat announces a client leaving"

stop_server chat_server
exec 4>&-
echo PASS
