#!/usr/bin/env bash
# plughole-lab's proxy behaviours (issue 4): every one talked to with curl,
# tunnel_probe.py and Python sockets; tunnels must reach the test's SMTP sink
# and its web target, refusals must refuse, a block page is a 200 without
# the nonce. Addresses: lab hosts 127.20.15-28.N, sink 127.0.44.1, targets
# 127.0.44.2, 127.0.44.3 and ::1 (run by check_lab_proxy.py). The lab listens
# on 0.0.0.0 on ports the kernel picks, two of them.
set -euo pipefail

LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
SRC="${PLUGHOLE_SRC:?}"
SINK_ADDR=127.0.44.1
WEB_ADDR=127.0.44.2
free_port() {
	python3 -c "import socket; s = socket.socket(); s.bind(('$1', 0)); print(s.getsockname()[1])"
}
SINK_PORT=$(free_port $SINK_ADDR)
WEB_PORT=$(free_port $WEB_ADDR)
PROXIES="127.20.15.1 127.20.16.1 127.20.17.1 127.20.18.1 127.20.19.1 127.20.20.1 127.20.21.1 127.20.22.1
127.20.23.1 127.20.24.1 127.20.25.1 127.20.26.1 127.20.27.1 127.20.28.1"

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

# --- the behaviour table and the truth ------------------------------------------
"$LAB" --list >"$dir/list" || fail "--list"
[ "$(tail -n +2 "$dir/list" | wc -l)" -eq 33 ] || fail "--list has 33 behaviours"
grep -q "^32	http-refuse	closed	" "$dir/list" || fail "--list: http-refuse is number 32"
n=15
for name in http-connect-open http-connect-443 http-post http-get socks4-open socks5-open socks5-auth \
	socks5-refuse wingate router block-page http-slow proxy-garbage proxy-silent; do
	grep -q "^$n	$name	" "$dir/list" || fail "--list: $name is number $n"
	n=$((n + 1))
done

# shellcheck disable=SC2086
"$LAB" --truth $PROXIES >"$dir/truth" || fail "--truth"
expect_truth() {
	grep -qx "$1	$2	$3	$4" "$dir/truth" || fail "--truth: want '$1 $2 $3 $4', got: $(grep "^$1	" "$dir/truth")"
}
http_software='(Squid|Apache mod_proxy|tinyproxy|Privoxy|CCProxy|MikroTik|3proxy)'
for a in 127.20.15.1 127.20.16.1 127.20.17.1 127.20.18.1 127.20.25.1 127.20.26.1; do
	grep -qE "^$a	[a-z0-9-]+	[a-z-]+	$http_software\$" "$dir/truth" || fail "--truth: $a names HTTP proxy software"
done
expect_truth 127.20.15.1 http-connect-open open-proxy-mail "$(awk -F'\t' '$1 == "127.20.15.1" { print $4 }' "$dir/truth")"
grep -q '^127\.20\.16\.1	http-connect-443	open-proxy-web	' "$dir/truth" || fail "--truth: http-connect-443"
grep -q '^127\.20\.17\.1	http-post	open-proxy-mail	' "$dir/truth" || fail "--truth: http-post"
grep -q '^127\.20\.18\.1	http-get	open-proxy-web	' "$dir/truth" || fail "--truth: http-get"
expect_truth 127.20.19.1 socks4-open open-proxy-mail -
expect_truth 127.20.20.1 socks5-open open-proxy-mail -
expect_truth 127.20.21.1 socks5-auth closed -
expect_truth 127.20.22.1 socks5-refuse closed -
expect_truth 127.20.23.1 wingate open-proxy-mail WinGate
expect_truth 127.20.24.1 router open-proxy-mail "Cisco IOS"
grep -q '^127\.20\.25\.1	block-page	not-proxy	' "$dir/truth" || fail "--truth: block-page"
grep -q '^127\.20\.26\.1	http-slow	timeout	' "$dir/truth" || fail "--truth: http-slow"
expect_truth 127.20.27.1 proxy-garbage not-proxy -
expect_truth 127.20.28.1 proxy-silent timeout -
# Software is per host and deterministic: several names over a block of HTTP proxies.
"$LAB" --truth --hosts 127.22.0.0/26 --mix http-connect-open=1 >"$dir/mixtruth"
[ "$(cut -f4 "$dir/mixtruth" | sort -u | wc -l)" -ge 5 ] || fail "--truth: several HTTP proxy softwares"
"$LAB" --truth --hosts 127.22.0.0/26 --mix http-connect-open=1 | cmp -s - "$dir/mixtruth" || fail "--truth is deterministic"
status=0
"$LAB" --port 0 --web-port 0 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "--web-port 0 is a usage error"

# --- running: the sink, a lab on two ports, a lab with latency -------------------------
python3 "$SRC/tests/it/lib/smtp_sink.py" --listen "$SINK_ADDR:$SINK_PORT" --dir "$dir/msgs" \
	--banner-host sink.test 2>"$dir/sink.log" &
pids+=($!)
"$LAB" --port 0 --port 0 --sink "$SINK_ADDR:$SINK_PORT" --sink-domain sink.test --web-port "$WEB_PORT" \
	--idle-timeout 20 >"$dir/lab.out" 2>"$dir/lab.err" &
lab_pid=$!
pids+=($lab_pid)
"$LAB" --port 0 --latency 300 --idle-timeout 2 --web-port "$WEB_PORT" >"$dir/slow.out" 2>"$dir/slow.err" &
slow_pid=$!
pids+=($slow_pid)

ports=$(lab_ports "$dir/lab.out" 2) || fail "the lab did not start"
port=$(echo "$ports" | sed -n 1p)
port2=$(echo "$ports" | sed -n 2p)
slow_port=$(lab_ports "$dir/slow.out" 1) || fail "the latency lab did not start"
[ -n "$port2" ] && [ "$port" != "$port2" ] || fail "two listening ports ($port, $port2)"
sink_up=0
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('$SINK_ADDR', $SINK_PORT), 1).close()" 2>/dev/null &&
		{ sink_up=1; break; }
	sleep 0.1
done
[ "$sink_up" -eq 1 ] || fail "the sink did not start"

python3 "$SRC/tests/lab/check_lab_proxy.py" --port "$port" --port2 "$port2" --latency-port "$slow_port" \
	--sink "$SINK_ADDR:$SINK_PORT" --sink-dir "$dir/msgs" --web-port "$WEB_PORT" --truth "$dir/truth" \
	--lib "$SRC/tests/it/lib" || fail "proxy behaviour checks"

# A clean stop: exit 0 after SIGTERM (under ASan that includes no leaks), every session freed.
for pid in "$lab_pid" "$slow_pid"; do
	kill "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 0 ] || fail "lab $pid exited with $status after SIGTERM"
done
grep -q '^plughole-lab: accepted [0-9]*, refused 0, live 0, peak .* tunnels [1-9][0-9]*, ' "$dir/lab.err" ||
	fail "statistics line with tunnels at exit"
! grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$dir"/*.err || fail "sanitizer reports"
echo "lab_proxy: all checks passed"
