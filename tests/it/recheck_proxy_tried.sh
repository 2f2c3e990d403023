#!/usr/bin/env bash
# A proxy that still forwards but could not reach the sink in a recheck (the
# sink down, or the proxy's own network blocking the mail port) answers
# "connection refused" (SOCKS5 reply 5) or "502 Bad Gateway": it tried, so it
# is still open, and the recheck must not count it as fixed. The lab's proxies
# connect for real, so with nothing listening on the sink they answer so.
# Addresses: lab proxies 127.88.30.1 (SOCKS5), 127.88.31.1 (HTTP CONNECT); sink 127.88.250.3.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
. "$(dirname "$0")/lib/owners.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
SINK=127.88.250.3:2588
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.88.30.0/24 --mix socks5-open=1 \
  >"$tmp/socks.out" 2>"$tmp/socks.err" & pids+=($!)
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.88.31.0/24 --mix http-connect-open=1 \
  >"$tmp/http.out" 2>"$tmp/http.err" & pids+=($!)
socks=$(lab_ports "$tmp/socks.out") || fail "the SOCKS lab did not start"
http=$(lab_ports "$tmp/http.out") || fail "the HTTP lab did not start"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1 --tests proxy)
ph verify "${engine[@]}" "127.88.30.1:$socks" "127.88.31.1:$http" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
assert_eq "$(q "select count(*) from findings where verdict = 'open-proxy-mail'")" 2
owners_campaign pt 127.88 30 31 || fail "the campaign"
# the recheck with the sink down: each proxy tries to reach it and says it could not
ph recheck pt "${engine[@]}" --external-sink >"$tmp/r1.out" 2>"$tmp/r1.err" || fail "recheck"
r1=$(q "select id from rounds where kind = 'recheck' and seq = 1")
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r1 and outcome = 'fixed'")" 0 \
  "a proxy that tried to reach the sink is not fixed: $(q "select verdict from round_findings where round_id = $r1")"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r1 and outcome = 'inconclusive'")" 2
echo "recheck_proxy_tried: ok"
