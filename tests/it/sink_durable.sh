#!/usr/bin/env bash
# A relay told 250 never sends again: a proof must be in the store before the
# sink says so. Killed with SIGKILL right after its "proof for" log line, or
# right after a relay got the 250, the in-process sink of `verify` (which
# shares the verifier's batched transaction) and the standalone `plughole
# sink` have every proof they announced or acknowledged in the store.
# Addresses: lab open relays 127.62.2.1-127.62.2.8, sink 127.62.0.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
KILL_ON=(python3 "$(dirname "$0")/lib/kill_on.py")
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
SINK=127.62.0.1:2562

"$LAB" --port 0 --hosts 127.62.2.1-127.62.2.8 --mix open=1 --sink "$SINK" --sink-domain sink.test \
	--forward-log "$tmp/forward.log" >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
targets=(); for n in $(seq 1 8); do targets+=("127.62.2.$n:$port"); done

verify() {
	local db=$1; shift
	"${KILL_ON[@]}" "$@" -- "$PLUGHOLE" --db "$db" verify --tests relay --allow-loopback --sink "$SINK" \
		--sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 30 \
		--retries 0 --proof-grace 0.5 --wait 3 "${targets[@]}"
}
# Proofs the store holds for a candidate address, read by another process after the kill.
proofs_for() { sqlite3 "$1" "select count(*) from proofs where address = '$2'"; }

# ---- 1: killed right after the in-process sink logged a proof ----
verify "$tmp/db1" stderr 'sink: proof for ' "$tmp/verify1.err" || fail "verify never logged a proof"
announced=$(sed -n 's/.*sink: proof for \([0-9.]*\):[0-9]* (test.*/\1/p' "$tmp/verify1.err" | sort -u)
[ -n "$announced" ] || fail "no proof line"
for a in $announced; do
	assert_eq "$(proofs_for "$tmp/db1" "$a")" 1 "the proof for $a, logged before the kill, is in the store"
done

# ---- 2: killed right after a relay got the in-process sink's 250 ----
: >"$tmp/forward.log"
verify "$tmp/db2" "$tmp/forward.log" 'result=delivered' "$tmp/verify2.err" || fail "no relay delivered"
delivered=$(grep -c 'result=delivered' "$tmp/forward.log")
[ "$delivered" -ge 1 ] || fail "no delivery logged"
for token in $(sed -n 's/.*to=<\([^@]*\)@sink.test> result=delivered$/\1/p' "$tmp/forward.log"); do
	assert_eq "$(sqlite3 "$tmp/db2" "select count(*) from proofs where token = '$token'")" 1 \
		"token $token, acknowledged with 250, is in the store"
done

# ---- 3: the standalone sink, killed right after a relay got its 250 ----
: >"$tmp/forward.log"
(
	sleep 0.5
	"$PLUGHOLE" --db "$tmp/db3" verify --external-sink --tests relay --allow-loopback --sink "$SINK" \
		--sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 10 \
		--retries 0 --proof-grace 0.5 --wait 1 "${targets[@]}" >"$tmp/verify3.out" 2>"$tmp/verify3.err" || true
) & pids+=($!)
"${KILL_ON[@]}" "$tmp/forward.log" 'result=delivered' "$tmp/sink3.err" -- "$PLUGHOLE" --db "$tmp/db3" sink \
	--listen "$SINK" --domain sink.test || fail "the standalone sink got no delivery"
wait "${pids[-1]}" 2>/dev/null || true
for token in $(sed -n 's/.*to=<\([^@]*\)@sink.test> result=delivered$/\1/p' "$tmp/forward.log"); do
	assert_eq "$(sqlite3 "$tmp/db3" "select count(*) from proofs where token = '$token'")" 1 \
		"token $token, acknowledged by the standalone sink, is in the store"
done
echo "ok: proofs announced or acknowledged survive SIGKILL ($delivered delivered in-process)"
