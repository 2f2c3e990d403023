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
# peer bytes that are not UTF-8 stay in the object, escaped (JSON strings must be UTF-8)
sqlite3 "$tmp/store.db" "UPDATE findings SET software = CAST(X'FF41' AS TEXT) WHERE verdict = 'timeout'"
assert_eq "$(P findings --format jsonl --verdict timeout | python3 -c 'import json,sys; print(json.load(sys.stdin)["software"])')" \
	'\xffA' "a software name that is not UTF-8"
run P findings --format xml
assert_eq "$status" 2 "an unknown format"
assert_contains "$err" "tsv|csv|json|jsonl"

# ---- --exclude-file: masscan's and zmap's lists, repeatable, for ingest and verify ----
printf '# opted out by mail\n127.70.2.0/24\n' > "$tmp/ex1"
printf '127.70.3.1-127.70.3.2 asked on the phone\n' > "$tmp/ex2"
printf '127.70.2.5\n127.70.3.1\n127.70.3.9\n' > "$tmp/feed2"
run P ingest --allow-loopback --exclude-file "$tmp/ex1" --exclude-file "$tmp/ex2" "$tmp/feed2"
assert_eq "$status" 0 "ingest with two --exclude-file: $err"
assert_contains "$out" "3 lines, 1 taken, 2 excluded"
run P ingest --allow-loopback --exclude-file "$tmp/nothing-here" "$tmp/feed2"
assert_eq "$status" 1 "a missing --exclude-file"
assert_contains "$err" "$tmp/nothing-here"
printf '127.70.4.0/24 reason\nnot-a-range\n' > "$tmp/ex-bad"
run P ingest --allow-loopback --exclude-file "$tmp/ex-bad" "$tmp/feed2"
assert_eq "$status" 1 "a bad line in an --exclude-file"
assert_contains "$err" "$tmp/ex-bad:2"
# verify: an operand in an --exclude-file is not tested (more specific than --allow-loopback's lift)
V() { P verify --allow-loopback --sink 127.70.0.1:2599 --sink-domain sink.test --retries 0 "$@"; }
run V --exclude-file "$tmp/ex1" 127.70.2.7:2598
assert_eq "$status" 0 "verify with an --exclude-file: $err"
assert_contains "$err" "127.70.2.7:2598 is excluded, not tested: $tmp/ex1:2"
assert_contains "$out" "verify: 0 targets"
run V --exclude-file "$tmp/ex1" --sink 127.70.2.1:2599
assert_eq "$status" 1 "a sink inside an --exclude-file"
assert_contains "$err" "--sink 127.70.2.1:2599: the address is excluded ($tmp/ex1:2"

# ---- durations with units, through one parser ----
run V --wait 1m --timeout 500ms --connect-timeout 2s --retry-after 1m30s 127.70.5.1:2598
assert_eq "$status" 0 "verify with durations: $err"
assert_eq "$(sqlite3 "$tmp/store.db" "SELECT wait FROM verify_runs ORDER BY id DESC LIMIT 1")" 60 "--wait 1m is 60 s"
run V --wait 90 127.70.5.2:2598
assert_eq "$(sqlite3 "$tmp/store.db" "SELECT wait FROM verify_runs ORDER BY id DESC LIMIT 1")" 90 "a plain number is seconds"
for bad in "--wait 5x" "--timeout -1s" "--retry-after 1m1m" "--proof-grace 31d"; do
	# shellcheck disable=SC2086
	run V $bad 127.70.5.3:2598
	assert_eq "$status" 2 "verify $bad"
	assert_contains "$err" "${bad%% *} '${bad#* }'"
done
run P attribute --rdap-ttl 7d --rdap-timeout 1m
assert_contains "$err" "no registry data loaded" # past the options: the durations were taken
run P attribute --rdap-ttl 5x
assert_eq "$status" 2 "a bad RDAP duration"
assert_contains "$err" "--rdap-ttl has an unknown unit"
run P attribute --rdap-timeout 500ms
assert_eq "$status" 2 "an RDAP timeout under a second"
printf '[sink]\nidle_timeout = 2m\nsession_timeout = 1h\n' > "$tmp/good.conf"
run P --config "$tmp/good.conf" findings
assert_eq "$status" 0 "durations in the config: $err"
run P sink --listen 127.70.0.9:2599 --domain sink.test --idle-timeout 1500ms
assert_eq "$status" 2 "sink --idle-timeout that is no whole number of seconds"
assert_contains "$err" "not a whole number of seconds"
printf '[sink]\nidle_timeout = 1500ms\n' > "$tmp/bad.conf"
run P --config "$tmp/bad.conf" findings
assert_eq "$status" 2 "a duration that is no whole number of seconds"
assert_contains "$err" "$tmp/bad.conf:2"
assert_contains "$err" "not a whole number of seconds"

# ---- unknown names are answered with the valid ones ----
run V --protocols http,smtp 127.70.5.4:2598
assert_eq "$status" 2 "an unknown protocol"
assert_contains "$err" "--protocols 'smtp': not a module or group; valid: smtp-relay, http-connect"
assert_contains "$err" "groups: relay, http, socks, https, gateway"
run V --ports smtp=25 127.70.5.4:2598
assert_eq "$status" 2 "an unknown module in --ports"
assert_contains "$err" "NAME one of smtp-relay"
run V --tests relays 127.70.5.4:2598
assert_eq "$status" 2 "an unknown test set"
assert_contains "$err" "(relay, proxy)"
run P findings --verdict openrelay
assert_contains "$err" "(open-relay, relay-accepted,"
run P help frobnicate
assert_contains "$err" "(help, ingest, verify,"

# ---- --helo's default as it is; --source-ip, and --source deprecated in verify ----
assert_contains "$(P help verify)" "this host's name when it has a dot,"
run V --source-ip 127.70.0.3 127.70.5.5:2598
assert_eq "$status" 0 "--source-ip: $err"
assert_not_contains "$err" "deprecated"
run V --source 127.70.0.3 127.70.5.6:2598
assert_eq "$status" 0 "--source still works: $err"
assert_contains "$err" "--source is deprecated, say --source-ip"

# ---- the example config: every key with its default, where help says ----
example=$(P help | sed -n 's/^Settings, each with its default: //p')
assert_eq "$example" "$PLUGHOLE_DATA/plughole.conf.example" "help points to the shipped example"
diff <(P help --config-example) "$example" || fail "the example is not what the config table writes"
run P --config "$example" findings
assert_eq "$status" 0 "the example loads as it is: $err"

# ---- make install: binary, data, man page; the installed binary finds its data ----
dest="$tmp/dest"
DESTDIR="$dest" cmake --install "${PLUGHOLE_BUILD:?set by ctest}" --prefix /opt/plughole-it > "$tmp/install.out"
root="$dest/opt/plughole-it"
[ -x "$root/bin/plughole" ] || fail "no installed binary: $(cat "$tmp/install.out")"
for f in exclude.conf agencies.conf plughole.conf.example rdap/ipv4.json; do
	[ -f "$root/share/plughole/$f" ] || fail "$f not installed"
done
[ ! -e "$root/share/plughole/demo" ] || fail "the demo data is no part of an install"
I() { env -u PLUGHOLE_DATA "$root/bin/plughole" --db "$tmp/installed.db" "$@"; }
assert_eq "$(I help | sed -n 's/^Settings, each with its default: //p')" "$root/share/plughole/plughole.conf.example" \
	"the installed binary finds the data beside it"
printf '127.70.6.1\n' > "$tmp/feed3"
run I ingest "$tmp/feed3"
assert_eq "$status" 0 "the installed binary ingests: $err"
assert_contains "$out" "1 excluded" # its exclude.conf was found: loopback is refused
run env PLUGHOLE_DATA="$tmp/elsewhere" "$root/bin/plughole" --db "$tmp/installed.db" ingest "$tmp/feed3"
assert_eq "$status" 1 "\$PLUGHOLE_DATA comes first"
assert_contains "$err" "$tmp/elsewhere/exclude.conf"
man="$root/share/man/man1/plughole.1"
[ -f "$man" ] || fail "no man page installed"
assert_contains "$(sed 's/\\-/-/g' "$man")" "/opt/plughole-it/share/plughole/plughole.conf.example" # the installed place
if command -v groff > /dev/null; then
	groff -man -Tutf8 -ww "$man" > "$tmp/man.txt" 2> "$tmp/man.err"
	[ ! -s "$tmp/man.err" ] || fail "groff warns: $(cat "$tmp/man.err")"
	page=$(cat "$tmp/man.txt")
	assert_contains "$page" "PLUGHOLE(1)"
	assert_contains "$page" "plughole verify [--tests relay,proxy]"
	assert_contains "$page" "--exclude-file FILE"
	assert_contains "$page" "PLUGHOLE_DATA"
fi
# the Makefile's install runs that same cmake --install with PREFIX and DESTDIR
assert_contains "$(make -s -n -C "${PLUGHOLE_SRC:?set by ctest}" install PREFIX=/opt/x DESTDIR=/tmp/y)" \
	'DESTDIR="/tmp/y" cmake --install build --prefix "/opt/x"'

echo "cli_conventions: ok"
