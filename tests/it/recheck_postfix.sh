#!/usr/bin/env bash
# A recheck against a REAL relay: Postfix open (mynetworks 0.0.0.0/0) is
# proven, frozen into a campaign, rechecked open (a new proof through
# Postfix), then its owner fixes it (mynetworks = itself, reload) and the
# next recheck finds it fixed: closed, "554 Relay access denied"; an
# owner's check of the ticket says fixed too.
# Addresses: Postfix 127.81.100.1:2525, the verifier's sink 127.81.250.3:2583.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
. "$here/lib/peers.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
peers_init "$tmp"
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
SINK=127.81.250.3:2583 RELAY=127.81.100.1
start_postfix_open "$RELAY" 2525 "$SINK"
postfix_dir=$PEERS_LAST_DIR
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 3 --timeout 10
  --proof-grace 3 --wait 10 --retry-after 2)
ph() { peers_exec "$PLUGHOLE" "$@"; }
fail() { echo "FAIL: $*" >&2; cat "$tmp"/*.err >&2 || true; peers_dump_logs; exit 1; }
ph verify "${engine[@]}" "$RELAY:2525" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
assert_eq "$(q "select verdict from findings")" open-relay
printf 'inetnum: 127.81.100.0 - 127.81.100.255\nnetname: PF\ndescr: Postfix Owner\ncountry: DE\nabuse-c: R-PF\nsource: PF\n\nrole: PF abuse\nabuse-mailbox: abuse@pf.example\nnic-hdl: R-PF\nsource: PF\n' \
  >"$tmp/registry.rpsl"
ph attribute load "$tmp/registry.rpsl" >/dev/null 2>"$tmp/load.err" || fail "attribute load"
ph attribute >/dev/null 2>"$tmp/attr.err" || fail attribute
ph campaign create pf --control 0 --seed 1 --domain pf.test >/dev/null 2>"$tmp/create.err" || fail create

ph recheck pf "${engine[@]}" >"$tmp/r1.out" 2>"$tmp/r1.err" || fail "recheck 1"
assert_contains "$(cat "$tmp/r1.out")" "treatment  open          1"
# the owner fixes it: only itself may relay now
postconf -c "$postfix_dir" -e "mynetworks = $RELAY/32"
touch -d '-2 seconds' "$postfix_dir/main.cf" # Postfix re-reads a main.cf of this second until it ages
kill -HUP "$(tr -d ' ' <"$postfix_dir/spool/pid/master.pid")"
sleep 1
ph recheck pf "${engine[@]}" >"$tmp/r2.out" 2>"$tmp/r2.err" || fail "recheck 2"
assert_contains "$(cat "$tmp/r2.out")" "treatment  fixed         1"
r2=$(q "select id from rounds where kind = 'recheck' and seq = 2")
assert_eq "$(q "select verdict from round_findings where round_id = $r2")" closed
assert_contains "$(q "select sqlar_uncompress(transcript, transcript_size) from round_findings where round_id = $r2" 2>/dev/null ||
  "$PLUGHOLE" findings --round "$r2" --transcript --format csv)" "Relay access denied"
ticket=$(q "select ticket from letters")
ph recheck --ticket "$ticket" --until-done "${engine[@]}" >"$tmp/owner.out" 2>"$tmp/owner.err" || fail "owner check"
assert_contains "$(cat "$tmp/owner.out")" "$RELAY:2525 fixed closed"
echo "recheck_postfix: ok"
