#!/bin/sh
# A fake Claude Code for tests: logs its arguments to $ARGS_LOG (one line per
# run), changes a file, and prints stream-json with a session id derived from
# the attempt (sess-1, sess-2...) and a successful result.
printf '%s\n' "$*" >> "$ARGS_LOG"
printf 'run %s\n' "$FLEET_ATTEMPT" >> work.txt
printf '{"type":"system","subtype":"init","session_id":"sess-%s","model":"fake"}\n' "$FLEET_ATTEMPT"
printf '{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"I changed work.txt (run %s)."}],"usage":{"input_tokens":10,"output_tokens":5}}}\n' "$FLEET_ATTEMPT"
printf '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"sess-%s","total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":5}}\n' "$FLEET_ATTEMPT"
