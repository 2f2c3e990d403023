#!/usr/bin/env bash
# plughole-lab: every behaviour, talked to with smtplib and sockets; open
# relays must deliver to a test sink with the recipient rewritten.
# Addresses: lab hosts 127.20.B.N and 127.21.0.0/24, sink 127.0.40.1,
# client 127.0.40.2. The lab listens on 0.0.0.0 on ports the kernel picks.
set -euo pipefail

LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
SRC="${PLUGHOLE_SRC:?}"
SINK_ADDR=127.0.40.1
# A free port from the kernel: a fixed one may be taken by some test's wildcard listener.
SINK_PORT=$(python3 -c "import socket; s = socket.socket(); s.bind(('$SINK_ADDR', 0)); print(s.getsockname()[1])")
MIX="open=1,closed=1,silent=1,drop=1"

dir=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$dir"/*.err "$dir"/sink.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
	done
	exit 1
}

. "$(dirname "$0")/lib/lab.sh"

# --- the command line ---------------------------------------------------------
"$LAB" --list >"$dir/list" || fail "--list"
[ "$(tail -n +2 "$dir/list" | wc -l)" -ge 15 ] || fail "--list has the 15 SMTP behaviours (proxies: lab_proxy.sh)"
for name in closed open drop percent greylist starttls tarpit drip garbage http reset silent endless helo-only tempfail \
	exim-open exim-closed strict-percent; do
	grep -q "	$name	" "$dir/list" || fail "--list lacks $name"
done
grep -q '^1	open	open-relay	' "$dir/list" || fail "--list: B=1 is open, verdict open-relay"

"$LAB" --truth --hosts 127.21.0.0/24 --mix "$MIX" 127.20.1.5 127.20.14.2 >"$dir/truth" || fail "--truth"
[ "$(wc -l <"$dir/truth")" -eq 258 ] || fail "--truth prints 256 + 2 lines"
awk -F'\t' 'NF != 4 { exit 1 } $3 !~ /^(open-relay|relay-accepted|closed|tempfail|timeout|unreachable|not-smtp)$/ { exit 1 }' \
	"$dir/truth" || fail "--truth lines are ADDRESS BEHAVIOUR VERDICT SOFTWARE with plughole's verdicts"
grep -q '^127\.20\.1\.5	open	open-relay	' "$dir/truth" || fail "--truth for a fixed-block address"
grep -q '^127\.20\.14\.2	tempfail	tempfail	' "$dir/truth" || fail "--truth for 127.20.14.2"
"$LAB" --truth --hosts 127.21.0.0/24 --mix "$MIX" 127.20.1.5 127.20.14.2 | cmp -s - "$dir/truth" ||
	fail "--truth is deterministic"
"$LAB" --truth --seed 7 --hosts 127.21.0.0/24 --mix "$MIX" | cmp -s - <(head -n 256 "$dir/truth") &&
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
python3 "$SRC/tests/it/lib/smtp_sink.py" --listen "$SINK_ADDR:$SINK_PORT" --dir "$dir/msgs" \
	--banner-host sink.test 2>"$dir/sink.log" &
pids+=($!)

"$LAB" --port 0 --sink "$SINK_ADDR:$SINK_PORT" --sink-domain sink.test --forward-log "$dir/forward.log" \
	--greylist-delay 1 --idle-timeout 20 --endless-rate 4096 \
	--hosts 127.21.0.0/24 --mix "$MIX" >"$dir/lab.out" 2>"$dir/lab.err" &
lab_pid=$!
pids+=($lab_pid)
"$LAB" --port 0 --latency 300 --idle-timeout 2 >"$dir/slow.out" 2>"$dir/slow.err" &
slow_pid=$!
pids+=($slow_pid)

port=$(lab_ports "$dir/lab.out") || fail "the lab did not start"
slow_port=$(lab_ports "$dir/slow.out") || fail "the latency lab did not start"
sink_up=0
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('$SINK_ADDR', $SINK_PORT), 1).close()" 2>/dev/null &&
		{ sink_up=1; break; }
	sleep 0.1
done
[ "$sink_up" -eq 1 ] || fail "the sink did not start"

python3 "$SRC/tests/lab/check_lab.py" --port "$port" --latency-port "$slow_port" --sink-dir "$dir/msgs" \
	--forward-log "$dir/forward.log" --truth "$dir/truth" --client 127.0.40.2 ||
	fail "behaviour checks"

# A clean stop: exit 0 after SIGTERM (under ASan that includes no leaks), with the statistics line.
for pid in "$lab_pid" "$slow_pid"; do
	kill "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 0 ] || fail "lab $pid exited with $status after SIGTERM"
done
grep -q '^plughole-lab: accepted [0-9]*, refused 0, live 0, peak' "$dir/lab.err" || fail "statistics line at exit"
! grep -q 'runtime error\|AddressSanitizer' "$dir"/*.err || fail "sanitizer reports"
echo "lab: all checks passed"
