#!/bin/sh
# tally: a tiny calculator in POSIX shell. Usage: sh tally.sh add 2 3
here=$(dirname "$0")
for f in "$here"/lib/*.sh; do
  [ -e "$f" ] && . "$f"
done
op=$1
shift
"$op" "$@"
