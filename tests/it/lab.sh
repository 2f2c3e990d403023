#!/usr/bin/env bash
# plughole-lab: every behaviour, talked to with smtplib and sockets; open
# relays must deliver to a test sink with the recipient rewritten.
# Addresses: lab hosts 127.20.B.N and 127.21.0.0/24, sink 127.0.40.1,
# client 127.0.40.2. The lab listens on 0.0.0.0 on ports the kernel picks.
set -euo pipefail

SRC="${PLUGHOLE_SRC:?}"
. "$(dirname "$0")/lib/lab.sh"
lab_session
SINK_ADDR=127.0.40.1
SINK_PORT=$(free_port $SINK_ADDR)
MIX="open=1,closed=1,silent=1,drop=1"

# --- the command line ---------------------------------------------------------
"$LAB" --list >"$tmp/list" || fail "--list"
[ "$(tail -n +2 "$tmp/list" | wc -l)" -ge 15 ] || fail "--list has the 15 SMTP behaviours (proxies: lab_proxy.sh)"
for name in closed open drop percent greylist starttls tarpit drip garbage http reset silent endless helo-only tempfail \
	exim-open exim-closed strict-percent; do
	grep -q "	$name	" "$tmp/list" || fail "--list lacks $name"
done
grep -q '^1	open	open-relay	' "$tmp/list" || fail "--list: B=1 is open, verdict open-relay"

"$LAB" --truth --hosts 127.21.0.0/24 --mix "$MIX" 127.20.1.5 127.20.14.2 >"$tmp/truth" || fail "--truth"
[ "$(wc -l <"$tmp/truth")" -eq 258 ] || fail "--truth prints 256 + 2 lines"
awk -F'\t' 'NF != 4 { exit 1 } $3 !~ /^(open-relay|relay-accepted|closed|tempfail|timeout|unreachable|not-smtp)$/ { exit 1 }' \
	"$tmp/truth" || fail "--truth lines are ADDRESS BEHAVIOUR VERDICT SOFTWARE with plughole's verdicts"
grep -q '^127\.20\.1\.5	open	open-relay	' "$tmp/truth" || fail "--truth for a fixed-block address"
grep -q '^127\.20\.14\.2	tempfail	tempfail	' "$tmp/truth" || fail "--truth for 127.20.14.2"
"$LAB" --truth --hosts 127.21.0.0/24 --mix "$MIX" 127.20.1.5 127.20.14.2 | cmp -s - "$tmp/truth" ||
	fail "--truth is deterministic"
"$LAB" --truth --seed 7 --hosts 127.21.0.0/24 --mix "$MIX" | cmp -s - <(head -n 256 "$tmp/truth") &&
	fail "--seed changes the assignment"
# Weighted: open=90 over a /20 gives about 90% open hosts.
open=$("$LAB" --truth --hosts 127.21.0.0/20 --mix open=90,closed=10 | grep -c '	open	')
[ "$open" -gt 3500 ] && [ "$open" -lt 3870 ] || fail "--mix weights: $open of 4096 open, want ~3686"

status=0
"$LAB" --port 0 --hosts 10.0.0.0/8 --mix open=1 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "--hosts outside 127/8 is a usage error"
status=0
"$LAB" --truth --mix open=1,nosuch=2 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "an unknown behaviour in --mix is a usage error"
status=0
"$LAB" --port 0 --sink 192.0.2.1:25 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "a sink off loopback is refused"

# --- running labs ---------------------------------------------------------------
lab_sink "$SINK_ADDR" "$SINK_PORT" "$tmp/msgs"
lab_start lab --sink "$SINK_ADDR:$SINK_PORT" --sink-domain sink.test --forward-log "$tmp/forward.log" \
	--greylist-delay 1 --idle-timeout 20 --endless-rate 4096 --hosts 127.21.0.0/24 --mix "$MIX"
lab_pid=$LAB_PID port=$LAB_PORT
lab_start slow --latency 300 --idle-timeout 2
slow_pid=$LAB_PID slow_port=$LAB_PORT

python3 "$SRC/tests/lab/check_lab.py" --port "$port" --latency-port "$slow_port" --sink-dir "$tmp/msgs" \
	--forward-log "$tmp/forward.log" --truth "$tmp/truth" --client 127.0.40.2 ||
	fail "behaviour checks"

# A clean stop, with the statistics line.
lab_stopped_clean "$lab_pid" "$slow_pid"
grep -q '^plughole-lab: accepted [0-9]*, refused 0, live 0, peak' "$tmp/lab.err" || fail "statistics line at exit"
echo "lab: all checks passed"
