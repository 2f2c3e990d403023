#!/usr/bin/env bash
# verify against REAL mail servers: Postfix open and closed, OpenSMTPD open
# and closed, each on its own 127.0.10.x address with private configs. The
# open ones relay to the verifier's own sink, which must prove them.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
. "$here/lib/peers.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
peers_init "$tmp"
SINK_ADDR=127.0.42.1 SINK_PORT=2542

start_postfix_open 127.0.10.21 25 "$SINK_ADDR:$SINK_PORT"
start_postfix_closed 127.0.10.22 25
start_opensmtpd_open 127.0.10.23 25 "$SINK_ADDR:$SINK_PORT"
start_opensmtpd_closed 127.0.10.24 25

db="$tmp/db"
peers_exec "$PLUGHOLE" --db "$db" verify --allow-loopback --sink "$SINK_ADDR:$SINK_PORT" --sink-domain sink.test \
  --helo verifier.test --connect-timeout 3 --timeout 10 --proof-grace 3 --wait 10 --retry-after 2 \
  127.0.10.21 127.0.10.22 127.0.10.23 127.0.10.24 127.0.10.29 >"$tmp/out" 2>"$tmp/err" ||
  { cat "$tmp/err" >&2; peers_dump_logs; exit 1; }
cat "$tmp/out"
"$PLUGHOLE" --db "$db" findings | sed 1d >"$tmp/findings" # the rows, without the header line
check() { # ADDRESS VERDICT SOFTWARE
  local row; row=$(awk -F'\t' -v a="$1" '$1 == a' "$tmp/findings")
  assert_eq "$(cut -f3 <<<"$row")" "$2" "verdict of $1"
  assert_eq "$(cut -f7 <<<"$row")" "$3" "software of $1"
}
check 127.0.10.21 open-relay Postfix
check 127.0.10.22 closed Postfix
check 127.0.10.23 open-relay OpenSMTPD
check 127.0.10.24 closed OpenSMTPD
check 127.0.10.29 unreachable ""
# The open relays were proven by the first variant, with one message each,
# and the sink saw the relays' own outgoing connections.
assert_eq "$(sqlite3 "$db" "select count(*) from probes")" 2
assert_eq "$(sqlite3 "$db" "select group_concat(variant) from findings where verdict = 'open-relay'")" "plain,plain"
assert_eq "$(sqlite3 "$db" "select count(*) from findings where verdict = 'open-relay' and exit_address like '127.%'")" 2
# The closed servers refused every variant (13): each tried, each refused in the transcript.
rejected=$(sqlite3 "$db" "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.0.10.22'" | grep -c '^<< 554')
[ "$rejected" -ge 13 ] || { echo "FAIL: Postfix closed refused only $rejected variants" >&2; exit 1; }
echo "verify_mta: ok"
