#!/usr/bin/env bash
# A proof counts for a verdict only when it is bound to a probe of the run
# that wrote the verdict (issue 11):
#  1. a proxy proven open, then refusing everything and verified again, is no
#     longer open (nor shown with the old token);
#  2. a token made with 'plughole token' and mailed to the sink by hand
#     changes no verdict, and 'plughole proofs' lists it apart;
#  3. a relay that answers the final dot late, or with 554, yet delivers our
#     token is open-relay, in the run (in-process sink) and at a later
#     reconcile (external sink); the summary counts every message that went.
# Addresses (block 127.65.0.0/16): sinks 127.65.0.1 (in-process) and
# 127.65.0.2 (external); proxies 127.65.1.0/30, relays 127.65.2.0/30 (lab);
# the late/554 relays 127.65.3.1-4; the hand-mailing client 127.65.0.9.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
LIB="$(dirname "$0")/lib"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err "$tmp"/*.out >&2 || true; exit 1; }
SINK=127.65.0.1:2565 EXT=127.65.0.2:2566
db="$tmp/db"
q() { sqlite3 "$db" "$1"; }
verdict() { q "select f.verdict from findings f join candidates c on c.id = f.candidate_id where c.address = '$1'"; }
verify() {
  "$PLUGHOLE" --db "$db" verify --allow-loopback --sink-domain sink.test --helo verifier.test \
    --connect-timeout 2 --timeout 1 --retries 0 --proof-grace 0.5 "$@"
}
wait_for() { for _ in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# ---- 1. a fixed proxy is not open because of its old proof ----
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.65.1.0/30 --mix http-connect-open=1 \
  >"$tmp/lab1.out" 2>"$tmp/lab1.err" & lab=$!; pids+=($lab)
port=$(lab_ports "$tmp/lab1.out") || fail "the lab did not start"
verify --tests proxy --sink "$SINK" --wait 1 "127.65.1.1:$port" >"$tmp/p1.out" 2>"$tmp/p1.err" || fail "verify failed"
assert_eq "$(verdict 127.65.1.1)" open-proxy-mail "the proxy is open at first"
old_token=$(q "select token from findings")
# The same address and port now refuse every tunnel (403) but to port 443.
kill "$lab"; wait "$lab" 2>/dev/null || true
"$LAB" --port "$port" --sink "$SINK" --sink-domain sink.test --hosts 127.65.1.0/30 --mix http-connect-443=1 \
  >"$tmp/lab2.out" 2>"$tmp/lab2.err" & pids+=($!)
lab_ports "$tmp/lab2.out" >/dev/null || fail "the lab did not restart on port $port"
verify --tests proxy --sink "$SINK" --wait 1 "127.65.1.1:$port" >"$tmp/p2.out" 2>"$tmp/p2.err" || fail "verify failed"
got=$(verdict 127.65.1.1)
[ "$got" != open-proxy-mail ] || fail "a proxy that now refuses is still open-proxy-mail (its old proof counted)"
assert_eq "$(q "select count(*) from findings where token = '$old_token'")" 0 "the old token beside the new verdict"
# Another run (it reconciles first) does not bring the old proof back either.
verify --tests proxy --sink "$SINK" --wait 0 >/dev/null 2>&1 || fail "a reconciling run failed"
assert_eq "$(verdict 127.65.1.1)" "$got" "the old proof revived the verdict"

# ---- 2. a token made by hand proves nothing ----
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.65.2.0/30 --mix drop=1 \
  >"$tmp/lab3.out" 2>"$tmp/lab3.err" & pids+=($!)
rport=$(lab_ports "$tmp/lab3.out") || fail "the relay lab did not start"
verify --tests relay --sink "$SINK" --wait 1 "127.65.2.1:$rport" >"$tmp/r1.out" 2>"$tmp/r1.err" || fail "verify failed"
assert_eq "$(verdict 127.65.2.1)" relay-accepted "the dropping relay"
assert_contains "$("$PLUGHOLE" token --help 2>&1)" "tokens prove nothing"
"$PLUGHOLE" --db "$db" sink --listen "$EXT" --domain sink.test >"$tmp/sink.out" 2>"$tmp/sink.err" & pids+=($!)
wait_for "grep -q 'listening on' '$tmp/sink.err'" || fail "the sink did not start"
token=$("$PLUGHOLE" --db "$db" token "127.65.2.1:$rport")
python3 "$LIB/smtp_send.py" smtplib --server "$EXT" --source 127.65.0.9 --to "$token@sink.test" >/dev/null ||
  fail "could not mail the sink"
wait_for "[ \"\$(q \"select count(*) from proofs where token = '$token'\")\" = 1 ]" || fail "the sink kept no proof"
verify --tests relay --sink "$SINK" --wait 0 >"$tmp/r2.out" 2>"$tmp/r2.err" || fail "a reconciling run failed"
assert_eq "$(verdict 127.65.2.1)" relay-accepted "a hand-made token turned the relay open"
"$PLUGHOLE" --db "$db" proofs | sed 1d >"$tmp/proofs"
assert_eq "$(awk -F'\t' -v t="$token" '$1 == t { print $NF }' "$tmp/proofs")" unmatched "the hand-made proof is listed apart"
assert_eq "$(tail -n 1 "$tmp/proofs" | cut -f1)" "$token" "unmatched proofs come last"

# ---- 3. a relay that delivered is open, whatever it answered ----
# In the run (in-process sink): the message's answer comes after --timeout, or is 554.
python3 "$LIB/late_relay.py" --serve 127.65.3.1:2525:late --serve 127.65.3.2:2525:554 --deliver "$SINK" \
  --delay 0.5 --late 3 >"$tmp/late1.out" 2>"$tmp/late1.err" & pids+=($!)
wait_for "[ \$(grep -c ^listening '$tmp/late1.out') = 2 ]" || fail "the late relays did not start"
verify --tests relay --sink "$SINK" --wait 10 127.65.3.1:2525 127.65.3.2:2525 >"$tmp/l1.out" 2>"$tmp/l1.err" ||
  fail "verify failed"
assert_eq "$(verdict 127.65.3.1)" open-relay "a relay answering the dot late delivered our token"
assert_eq "$(verdict 127.65.3.2)" open-relay "a relay answering the dot 554 delivered our token"
went=$(q "select count(*) from probes p join candidates c on c.id = p.candidate_id
  where c.address in ('127.65.3.1', '127.65.3.2') and p.outcome <> 'message-withdrawn'")
[ "$went" -ge 2 ] || fail "expected at least two messages, $went went"
assert_contains "$(cat "$tmp/l1.out")" "$went test messages"
assert_contains "$(cat "$tmp/l1.out")" "2 proofs"
# At a later reconcile (external sink; verify does not wait): the proofs land after the run.
python3 "$LIB/late_relay.py" --serve 127.65.3.3:2525:late --serve 127.65.3.4:2525:554 --deliver "$EXT" \
  --delay 1 --late 2 >"$tmp/late2.out" 2>"$tmp/late2.err" & pids+=($!)
wait_for "[ \$(grep -c ^listening '$tmp/late2.out') = 2 ]" || fail "the late relays did not start"
verify --tests relay --external-sink --sink "$EXT" --wait 0 127.65.3.3:2525 127.65.3.4:2525 \
  >"$tmp/l2.out" 2>"$tmp/l2.err" || fail "verify failed"
wait_for "[ \"\$(q \"select count(distinct address) from proofs where address in ('127.65.3.3', '127.65.3.4')\")\" = 2 ]" ||
  fail "the late relays' proofs did not arrive"
verify --tests relay --sink "$SINK" --wait 0 >"$tmp/l3.out" 2>"$tmp/l3.err" || fail "a reconciling run failed"
assert_eq "$(verdict 127.65.3.3)" open-relay "late answer, proof after the run"
assert_eq "$(verdict 127.65.3.4)" open-relay "554, proof after the run"
# The evidence is the delivered message's: its token, and that message's variant.
assert_eq "$(q "select count(*) from findings f join probes p on p.token = f.token and p.candidate_id = f.candidate_id
  where f.verdict = 'open-relay' and f.variant = p.variant")" 4 "token and variant of the same message"
echo "verify_bound_proofs: ok"
