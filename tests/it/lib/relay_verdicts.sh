# shellcheck shell=bash
# verify --tests relay against real MTAs (verify_exim.sh, verify_greylist.sh):
# the run, then each host's verdict, explained when it is not the one expected.
# Source it after peers.sh.

# relay_verify DIR SINK ADDR... [-- VERIFY_ARG...]: ingests ADDR:25 into the
# store DIR/db and verifies them with the sink SINK (ADDR:PORT), the timings
# every such test shares plus the VERIFY_ARGs; prints how long it took and the
# output, and stops the test (with the peers' logs) when verify fails. The
# findings are left in DIR/findings for verdict.
relay_verify() {
  local dir=$1 sink=$2 status=0 t0
  shift 2
  local addrs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do addrs+=("$1"); shift; done
  [ $# -eq 0 ] || shift
  RELAY_DB=$dir/db RELAY_FINDINGS=$dir/findings
  printf '%s:25\n' "${addrs[@]}" >"$dir/list"
  "$PLUGHOLE" --db "$RELAY_DB" ingest --allow-loopback --format plain "$dir/list" >/dev/null
  t0=$(date +%s)
  peers_exec "$PLUGHOLE" --db "$RELAY_DB" verify --allow-loopback --tests relay \
    --sink "$sink" --sink-domain sink.test --helo verifier.test \
    --connect-timeout 3 --timeout 5 --proof-grace 3 --wait 5 --retries 1 "$@" \
    >"$dir/out" 2>"$dir/err" || status=$?
  echo "verify took $(( $(date +%s) - t0 )) s (status $status)"
  cat "$dir/out"
  [ $status = 0 ] || { cat "$dir/err" >&2; peers_dump_logs; exit 1; }
  "$PLUGHOLE" --db "$RELAY_DB" findings >"$RELAY_FINDINGS"
}

# verdict ADDR: its verdict in the findings.
verdict() { awk -F'\t' -v a="$1" '$1 == a { print $3 }' "$RELAY_FINDINGS"; }

# explain ADDR: on failure, the findings, what was said to ADDR, and how the peers saw it.
explain() {
  echo "--- findings" >&2
  cat "$RELAY_FINDINGS" >&2
  echo "--- transcript of $1" >&2
  "$PLUGHOLE" --db "$RELAY_DB" findings --format json --transcript |
    "$PEERS_PYTHON" -c 'import json,sys
for f in json.load(sys.stdin):
    if f.get("address") == sys.argv[1]: print(f.get("transcript", ""))' "$1" >&2 || true
  peers_dump_logs
}
