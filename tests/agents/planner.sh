#!/bin/sh
# A planner for tests. Its directory is $PLANNER_DIR (set in the profile's env):
# each run n (counted in `count`) records its prompt in `prompt-n`, its
# arguments one a line in `args-n`, its working directory and environment in
# `env-n`, and a copy of `marker.txt` of its working directory in `seen-n`;
# then answers with `answer-n` (else `answer`). With `write` present it also
# writes planner-was-here.txt and changes README.md in its working directory;
# with `sleep` present it first sleeps that many seconds.
# With FORMAT=claude (in the env) it prints Claude stream-json: a session id
# (sess-1 on the first run, then the one it resumed) and the answer, read
# JSON-encoded from `answer-n.json` (else `answer.json`), as its result.
dir="$PLANNER_DIR"
n=$(($(cat "$dir/count" 2>/dev/null || echo 0) + 1))
echo "$n" > "$dir/count"
prompt=""
for a in "$@"; do printf '%s\n' "$a"; done > "$dir/args-$n"
# The prompt is the argument after "--prompt".
take=""
for a in "$@"; do
  if [ -n "$take" ]; then prompt="$a"; take=""; fi
  [ "$a" = "--prompt" ] && take=1
done
printf '%s' "$prompt" > "$dir/prompt-$n"
printf 'pwd=%s\nFLEET_TASK=%s\nFLEET_CONSULT=%s\n' "$(pwd)" "$FLEET_TASK" "$FLEET_CONSULT" > "$dir/env-$n"
cat marker.txt > "$dir/seen-$n" 2>/dev/null
[ -e "$dir/sleep" ] && sleep "$(cat "$dir/sleep")"
if [ -e "$dir/write" ]; then
  echo "scribble" > planner-was-here.txt
  echo "changed" >> README.md
fi
answer="$dir/answer-$n"
[ -e "$answer" ] || answer="$dir/answer"
if [ "$FORMAT" = "claude" ]; then
  session="sess-1"
  prev=""
  for a in "$@"; do
    [ "$prev" = "--resume" ] && session="$a"
    prev="$a"
  done
  printf '{"type":"system","subtype":"init","session_id":"%s","model":"fake"}\n' "$session"
  text=$(cat "$dir/answer-$n.json" 2>/dev/null || cat "$dir/answer.json")
  printf '{"type":"assistant","message":{"id":"m%s","content":[{"type":"text","text":%s}],"usage":{"input_tokens":100,"output_tokens":50}}}\n' "$n" "$text"
  printf '{"type":"result","subtype":"success","is_error":false,"result":%s,"session_id":"%s","total_cost_usd":0.25,"usage":{"input_tokens":100,"output_tokens":50}}\n' "$text" "$session"
else
  cat "$answer"
fi
