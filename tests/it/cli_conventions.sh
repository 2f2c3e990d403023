#!/usr/bin/env bash
# What users of other scanners expect of the command line (issue 15):
# listings with a header line (TSV, and CSV with no rows), typed JSON and JSON
# Lines; --exclude-file; durations with units; unknown names answered with the
# valid ones; the example config and the data directory; make install.
# Addresses: 127.70.0.0/16 only (stored candidates; verify's sink 127.70.0.1).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
PLUGHOLE=${PLUGHOLE:?set by ctest}
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PLUGHOLE_DB
P() { "$PLUGHOLE" --db "$tmp/store.db" "$@"; }
run() {
	status=0
	"$@" > "$tmp/run.out" 2> "$tmp/run.err" || status=$?
	out=$(cat "$tmp/run.out")
	err=$(cat "$tmp/run.err")
}

# ---- listings: a header line on TSV and on CSV, rows or not ----
printf '127.70.1.1\n127.70.1.2\n' > "$tmp/feed"
P ingest --allow-loopback "$tmp/feed" > /dev/null
header='address	port	verdict	test	variant	protocol	software	tls	exit_address	token	attempts	first_checked	last_checked'
assert_eq "$(P findings)" "$header" "TSV with no rows: the header alone"
assert_eq "$(P findings --format csv)" "${header//	/,}" "CSV with no rows: the header alone"
assert_eq "$(P findings --format json)" "[]" "JSON with no rows"
assert_eq "$(P findings --format jsonl)" "" "JSON Lines with no rows"
for verb in proofs owners "owners --hosts" "attribute sources"; do
	# shellcheck disable=SC2086
	first=$(P $verb 2>/dev/null | head -n 1)
	[ -n "$first" ] || fail "$verb: no header line"
done
sqlite3 "$tmp/store.db" "
 INSERT INTO findings(candidate_id, verdict, test, protocol, tls, attempts, first_checked, last_checked)
 SELECT id, 'closed', 'relay', 'smtp-relay', 1, 2, 1000, 2000 FROM candidates WHERE address = '127.70.1.1';
 INSERT INTO findings(candidate_id, verdict, test, attempts) SELECT id, 'timeout', 'relay', 1 FROM candidates
 WHERE address = '127.70.1.2';"
assert_eq "$(P findings | sed -n 2p | cut -f1-3,8,11-13)" \
	"$(printf '127.70.1.1\t25\tclosed\t1\t2\t1970-01-01T00:16:40Z\t1970-01-01T00:33:20Z')"

# ---- JSON keeps the types: numbers, booleans, null ----
P findings --format json > "$tmp/json"
P findings --format jsonl > "$tmp/jsonl"
assert_eq "$(wc -l < "$tmp/jsonl")" 2 "JSON Lines: one object a line"
python3 - "$tmp/json" "$tmp/jsonl" <<'PY' || fail "typed JSON"
import json, sys
array = json.load(open(sys.argv[1]))
lines = [json.loads(line) for line in open(sys.argv[2])]
assert array == lines, (array, lines)
a, b = array
assert a["port"] == 25 and a["attempts"] == 2, a
assert a["tls"] is True and b["tls"] is False, (a, b)
assert a["software"] is None and b["first_checked"] is None, (a, b)
assert a["verdict"] == "closed" and a["first_checked"] == "1970-01-01T00:16:40Z", a
PY
run P findings --format xml
assert_eq "$status" 2 "an unknown format"
assert_contains "$err" "tsv|csv|json|jsonl"

echo "cli_conventions: ok"
