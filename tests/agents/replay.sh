#!/bin/sh
# A stand-in for a real agent CLI: replays a recorded output, line by line
# with a short delay, as the real CLI printed it (see tests/fixtures/agents).
#
# Usage: replay.sh FIXTURE [EXIT_CODE] [STDERR_FILE]
#   REPLAY_FILE=NAME  create NAME in the current directory first (what the
#                     recorded tool call did: `hello.txt` in every fixture)
fixture=$1
code=${2:-0}
stderr_file=$3
if [ -n "$REPLAY_FILE" ]; then
  printf 'hello from mock\n' > "$REPLAY_FILE"
fi
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line"
  sleep 0.01
done < "$fixture"
if [ -n "$stderr_file" ]; then
  cat "$stderr_file" >&2
fi
exit "$code"
