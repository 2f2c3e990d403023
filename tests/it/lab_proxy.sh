#!/usr/bin/env bash
# plughole-lab's proxy behaviours (issue 4): every one talked to with curl,
# tunnel_probe.py and Python sockets; tunnels must reach the test's SMTP sink
# and its web target, refusals must refuse, a block page is a 200 without
# the nonce. Addresses: lab hosts 127.20.15-28.N, sink 127.0.44.1, targets
# 127.0.44.2, 127.0.44.3 and ::1 (run by check_lab_proxy.py). The lab listens
# on 0.0.0.0 on ports the kernel picks, two of them.
set -euo pipefail

SRC="${PLUGHOLE_SRC:?}"
. "$(dirname "$0")/lib/lab.sh"
lab_session
SINK_ADDR=127.0.44.1
WEB_ADDR=127.0.44.2
SINK_PORT=$(free_port $SINK_ADDR)
WEB_PORT=$(free_port $WEB_ADDR)
PROXIES="127.20.15.1 127.20.16.1 127.20.17.1 127.20.18.1 127.20.19.1 127.20.20.1 127.20.21.1 127.20.22.1
127.20.23.1 127.20.24.1 127.20.25.1 127.20.26.1 127.20.27.1 127.20.28.1"

# --- the behaviour table and the truth ------------------------------------------
"$LAB" --list >"$tmp/list" || fail "--list"
[ "$(tail -n +2 "$tmp/list" | wc -l)" -eq 33 ] || fail "--list has 33 behaviours"
grep -q "^32	http-refuse	closed	" "$tmp/list" || fail "--list: http-refuse is number 32"
n=15
for name in http-connect-open http-connect-443 http-post http-get socks4-open socks5-open socks5-auth \
	socks5-refuse wingate router block-page http-slow proxy-garbage proxy-silent; do
	grep -q "^$n	$name	" "$tmp/list" || fail "--list: $name is number $n"
	n=$((n + 1))
done

# shellcheck disable=SC2086
"$LAB" --truth $PROXIES >"$tmp/truth" || fail "--truth"
expect_truth() {
	grep -qx "$1	$2	$3	$4" "$tmp/truth" || fail "--truth: want '$1 $2 $3 $4', got: $(grep "^$1	" "$tmp/truth")"
}
http_software='(Squid|Apache mod_proxy|tinyproxy|Privoxy|CCProxy|MikroTik|3proxy)'
for a in 127.20.15.1 127.20.16.1 127.20.17.1 127.20.18.1 127.20.25.1 127.20.26.1; do
	grep -qE "^$a	[a-z0-9-]+	[a-z-]+	$http_software\$" "$tmp/truth" || fail "--truth: $a names HTTP proxy software"
done
expect_truth 127.20.15.1 http-connect-open open-proxy-mail "$(awk -F'\t' '$1 == "127.20.15.1" { print $4 }' "$tmp/truth")"
grep -q '^127\.20\.16\.1	http-connect-443	open-proxy-web	' "$tmp/truth" || fail "--truth: http-connect-443"
grep -q '^127\.20\.17\.1	http-post	open-proxy-mail	' "$tmp/truth" || fail "--truth: http-post"
grep -q '^127\.20\.18\.1	http-get	open-proxy-web	' "$tmp/truth" || fail "--truth: http-get"
expect_truth 127.20.19.1 socks4-open open-proxy-mail -
expect_truth 127.20.20.1 socks5-open open-proxy-mail -
expect_truth 127.20.21.1 socks5-auth closed -
expect_truth 127.20.22.1 socks5-refuse closed -
expect_truth 127.20.23.1 wingate open-proxy-mail WinGate
expect_truth 127.20.24.1 router open-proxy-mail "Cisco IOS"
grep -q '^127\.20\.25\.1	block-page	not-proxy	' "$tmp/truth" || fail "--truth: block-page"
grep -q '^127\.20\.26\.1	http-slow	timeout	' "$tmp/truth" || fail "--truth: http-slow"
expect_truth 127.20.27.1 proxy-garbage not-proxy -
expect_truth 127.20.28.1 proxy-silent timeout -
# Software is per host and deterministic: several names over a block of HTTP proxies.
"$LAB" --truth --hosts 127.22.0.0/26 --mix http-connect-open=1 >"$tmp/mixtruth"
[ "$(cut -f4 "$tmp/mixtruth" | sort -u | wc -l)" -ge 5 ] || fail "--truth: several HTTP proxy softwares"
"$LAB" --truth --hosts 127.22.0.0/26 --mix http-connect-open=1 | cmp -s - "$tmp/mixtruth" || fail "--truth is deterministic"
status=0
"$LAB" --port 0 --web-port 0 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "--web-port 0 is a usage error"

# --- running: the sink, a lab on two ports, a lab with latency -------------------------
lab_sink "$SINK_ADDR" "$SINK_PORT" "$tmp/msgs"
lab_start lab --port 0 --sink "$SINK_ADDR:$SINK_PORT" --sink-domain sink.test --web-port "$WEB_PORT" \
	--idle-timeout 20
lab_pid=$LAB_PID
ports=$(lab_ports "$tmp/lab.out" 2) || fail "the lab did not start its second port"
port=$(echo "$ports" | sed -n 1p)
port2=$(echo "$ports" | sed -n 2p)
[ -n "$port2" ] && [ "$port" != "$port2" ] || fail "two listening ports ($port, $port2)"
lab_start slow --latency 300 --idle-timeout 2 --web-port "$WEB_PORT"
slow_pid=$LAB_PID slow_port=$LAB_PORT

python3 "$SRC/tests/lab/check_lab_proxy.py" --port "$port" --port2 "$port2" --latency-port "$slow_port" \
	--sink "$SINK_ADDR:$SINK_PORT" --sink-dir "$tmp/msgs" --web-port "$WEB_PORT" --truth "$tmp/truth" \
	--lib "$SRC/tests/it/lib" || fail "proxy behaviour checks"

# A clean stop, every session freed.
lab_stopped_clean "$lab_pid" "$slow_pid"
grep -q '^plughole-lab: accepted [0-9]*, refused 0, live 0, peak .* tunnels [1-9][0-9]*, ' "$tmp/lab.err" ||
	fail "statistics line with tunnels at exit"
echo "lab_proxy: all checks passed"
