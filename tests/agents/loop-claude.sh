#!/bin/sh
# A fake Claude Code that loops: logs its arguments to $ARGS_LOG (one line
# per run) and prints stream-json with the session id sess-<attempt>. A fresh
# run repeats the same Bash tool call (`cargo test`) every 0.1 s until it is
# stopped; a resumed run (`--resume SESSION`) changes work.txt and succeeds.
printf '%s\n' "$*" >> "$ARGS_LOG"
printf '{"type":"system","subtype":"init","session_id":"sess-%s","model":"fake"}\n' "$FLEET_ATTEMPT"
case " $* " in
*" --resume "*)
    printf 'nudged\n' >> work.txt
    printf '{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Done looping."}],"usage":{"input_tokens":10,"output_tokens":5}}}\n'
    printf '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"sess-%s","total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":5}}\n' "$FLEET_ATTEMPT"
    exit 0
    ;;
esac
n=0
while :; do
    n=$((n + 1))
    printf '{"type":"assistant","message":{"id":"m%s","content":[{"type":"tool_use","id":"t%s","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":1,"output_tokens":1}}}\n' "$n" "$n"
    sleep 0.1
done
