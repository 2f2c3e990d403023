#!/usr/bin/env bash
# The command line as a new user meets it: --help, -h and --version; a
# mistyped --db is refused by the verbs that only read (and makes no store);
# a read-only store can still be read; exit status 1 for bad operands, 2 for
# usage errors, 130 after SIGINT (verify, sink, attribute load), 0 after SIGTERM.
# Addresses: 127.67.0.1 (verify's sink), .2 (sink), .11 (a silent host).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
PLUGHOLE=${PLUGHOLE:?set by ctest}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	chmod -R u+w "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PLUGHOLE_DB
P() { "$PLUGHOLE" "$@"; }
# Runs a command, keeping its exit status in $status and its output in $out and $err.
run() {
	status=0
	"$@" > "$tmp/run.out" 2> "$tmp/run.err" || status=$?
	out=$(cat "$tmp/run.out")
	err=$(cat "$tmp/run.err")
}
# Waits for a line matching $2 in file $1.
await() { for _ in $(seq 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; fail "no '$2' in $1: $(cat "$1")"; }

# ---- --help, -h, --version: to stdout, exit 0 ----
for flag in --help -h; do
	run P "$flag"
	assert_eq "$status" 0 "plughole $flag"
	assert_contains "$out" "usage: plughole"
	assert_contains "$out" "verbs:"
done
run P --version
assert_eq "$status" 0 "plughole --version"
[[ "$out" =~ ^plughole\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$out'"
run P --db "$tmp/x.db" --version
assert_eq "$status" 0 "--version after a global option"
run P frobnicate
assert_eq "$status" 2 "an unknown verb is a usage error"
run P
assert_eq "$status" 2 "no verb is a usage error"
run P findings --no-such-option
assert_eq "$status" 2 "an unknown option is a usage error"

# ---- a mistyped --db: verbs that only read refuse it, and no store appears ----
cd "$tmp"
for verb in findings owners proofs "owners --hosts" "attribute sources" "whois 192.0.2.1" attribute \
	"attribute remove x"; do
	# shellcheck disable=SC2086 # the verb's words
	run P --db "$tmp/typo.db" $verb
	assert_eq "$status" 1 "$verb on a store that is not there"
	assert_contains "$err" "$tmp/typo.db: no store there"
	[ ! -e "$tmp/typo.db" ] || fail "$verb made a new store"
done
PLUGHOLE_DB="$tmp/typo.db" run P findings
assert_eq "$status" 1 "findings on a \$PLUGHOLE_DB that is not there"
[ ! -e "$tmp/typo.db" ] || fail "findings made a store from \$PLUGHOLE_DB"
run P findings
assert_eq "$status" 1 "findings without --db in a directory without ./plughole.db"
[ ! -e "$tmp/plughole.db" ] || fail "findings made ./plughole.db"
# verbs that write make it, as before
echo "127.67.0.11:25" > "$tmp/list"
run P --db "$tmp/store.db" ingest --allow-loopback "$tmp/list"
assert_eq "$status" 0 "ingest makes a new store"
sqlite3 "$tmp/store.db" "INSERT INTO findings(candidate_id, verdict) VALUES(1, 'closed')"
run P --db "$tmp/store.db" findings
assert_eq "$status" 0 "findings on the store ingest made"
assert_contains "$out" "127.67.0.11"
echo "just text, no database" > "$tmp/not-a-store"
run P --db "$tmp/not-a-store" findings
assert_eq "$status" 1 "findings on a file that is no store"
assert_contains "$err" "$tmp/not-a-store"

# ---- a read-only store can still be read ----
# File modes do not bind root: as root, the reader is nobody.
if [ "$(id -u)" -eq 0 ]; then
	reader=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${reader[@]}" "$PLUGHOLE" help > /dev/null 2>&1 ||
		fail "as root this test reads as nobody, who cannot run $PLUGHOLE: build where nobody can"
else
	reader=()
fi
R() { "${reader[@]}" "$PLUGHOLE" "$@"; }
ro="$tmp/ro"
mkdir "$ro"
cp "$tmp/store.db" "$ro/store.db"
chmod 755 "$tmp"
chmod 777 "$ro" # the reader may make files here, but not write the store
chmod 444 "$ro/store.db"
run R --db "$ro/store.db" findings
assert_eq "$status" 0 "findings on a read-only store file: $err"
assert_contains "$out" "127.67.0.11"
[ -z "$(ls "$ro" | grep -v '^store.db$')" ] ||
	fail "reading a read-only store left files that would keep its owner from writing it: $(ls "$ro")"
chmod 555 "$ro"
for verb in findings proofs owners "attribute sources"; do
	# shellcheck disable=SC2086
	run R --db "$ro/store.db" $verb
	assert_eq "$status" 0 "$verb in a read-only directory: $err"
done
# A store file the reader may write, in a directory it may not: WAL cannot make its -shm there.
mkdir "$tmp/ro2"
cp "$tmp/store.db" "$tmp/ro2/store.db"
chmod 666 "$tmp/ro2/store.db"
chmod 555 "$tmp/ro2"
run R --db "$tmp/ro2/store.db" findings
assert_eq "$status" 0 "findings on a writable store in a read-only directory: $err"
assert_contains "$out" "127.67.0.11"
# A store whose last writes are still in its -wal file (a writer died): read-only, they are seen.
chmod 755 "$ro"
rm -f "$ro/store.db"
cp "$tmp/store.db" "$ro/store.db"
python3 - "$ro/store.db" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute("INSERT INTO candidates(address, port, family, first_seen, last_seen) VALUES('127.67.0.12', 25, 4, 0, 0)")
db.execute("INSERT INTO findings(candidate_id, verdict) VALUES(last_insert_rowid(), 'timeout')")
db.commit()
os._exit(0)  # no close, no checkpoint: the rows stay in the -wal file
PY
[ -s "$ro/store.db-wal" ] || fail "the writer left no -wal file"
chmod 444 "$ro/store.db"
chmod 555 "$ro"
run R --db "$ro/store.db" findings
assert_eq "$status" 0 "findings on a read-only store with a -wal file: $err"
assert_contains "$out" "127.67.0.12"
# An older schema: a verb that reads brings it up to date when it may write the store, else says why not.
# (A database no migration has touched yet: every migration is still to apply.)
old="$tmp/old.db"
sqlite3 "$old" "CREATE TABLE legacy(x); PRAGMA user_version = 0"
chmod 444 "$old"
run R --db "$old" findings
assert_eq "$status" 1 "findings on a read-only store of an older schema"
assert_contains "$err" "is older than this plughole's"
chmod 644 "$old"
run P --db "$old" findings
assert_eq "$status" 0 "findings on a store of an older schema: $err"
[ "$(sqlite3 "$old" "PRAGMA user_version")" -gt 0 ] || fail "findings did not bring the schema up to date"
# Writing verbs say why they cannot.
run R --db "$ro/store.db" ingest --allow-loopback "$tmp/list"
assert_eq "$status" 1 "ingest into a read-only store"
chmod 755 "$ro"

# ---- bad operands: exit 1 with a clear message ----
db="$tmp/store.db"
run P --db "$db" verify --tests relay --allow-loopback --sink 127.67.0.1:2567 --sink-domain sink.test \
	127.67.0.11:99999
assert_eq "$status" 1 "verify with a port out of range"
assert_contains "$err" "127.67.0.11:99999"
run P --db "$db" sink --listen 127.67.0.2 --domain sink.test
assert_eq "$status" 1 "sink --listen without a port"
assert_contains "$err" "needs a port"
run P --db "$db" whois not-an-address
assert_eq "$status" 2 "whois with no address"

# ---- SIGINT: verify stops cleanly, says so, exits 130; the silent host stays pending ----
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.67.0.11", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])  # accepted, never answered
    print("accepted", flush=True)
' > "$tmp/silent.out" &
pids+=($!)
await "$tmp/silent.out" '^[0-9]'
port=$(head -n 1 "$tmp/silent.out")
# SIGTERM (a supervisor's stop) stops it as cleanly and exits 0.
for sig in INT TERM; do
	# not through P: $! must be plughole
	"$PLUGHOLE" --db "$db" verify --tests relay --allow-loopback --sink 127.67.0.1:2567 --sink-domain sink.test \
		--helo verifier.test --connect-timeout 30 --timeout 60 --retries 0 "127.67.0.11:$port" \
		> "$tmp/verify-$sig.out" 2> "$tmp/verify-$sig.err" &
	vpid=$!
	pids+=("$vpid")
	await "$tmp/verify-$sig.err" "verify: 1 targets"
	sleep 0.3
	kill -"$sig" "$vpid"
	status=0
	wait "$vpid" || status=$?
	assert_eq "$status" "$([ "$sig" = INT ] && echo 130 || echo 0)" "verify after SIG$sig"
	assert_contains "$(cat "$tmp/verify-$sig.err")" "stopping"
	assert_contains "$(cat "$tmp/verify-$sig.out")" "verify: 1 targets, 0 finished"
	assert_eq "$(sqlite3 "$db" "SELECT count(*) FROM findings f JOIN candidates c ON c.id = f.candidate_id
		WHERE c.address = '127.67.0.11' AND c.port = $port")" 0 "the interrupted host stays pending"
done

# ---- attribute: SIGINT ends an RDAP question at once; what was resolved before stays ----
# Documentation addresses, in a store nothing verifies: the first from bulk data, the next two from an
# RDAP registry that never answers (the silent host); SIGINT while the first question waits.
adb="$tmp/attrib.db"
printf 'inetnum: 192.0.2.0 - 192.0.2.255\nnetname: BULK\nabuse-c: B1-TEST\nsource: TEST\n\n%s\n' \
	'role: Bulk abuse
abuse-mailbox: abuse@bulk.example
nic-hdl: B1-TEST
source: TEST' > "$tmp/bulk.db"
P --db "$adb" attribute load "$tmp/bulk.db" > /dev/null 2>&1
sqlite3 "$adb" "INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
 (1, '192.0.2.10', 25, 4, 0, 0), (2, '198.51.100.7', 25, 4, 0, 0), (3, '198.51.100.8', 25, 4, 0, 0);
 INSERT INTO findings(candidate_id, verdict) SELECT id, 'open-relay' FROM candidates;"
mkdir "$tmp/bootstrap"
printf '{"services": [[["198.51.100.0/24"], ["http://127.67.0.11:%s/rdap/"]]], "version": "1.0"}\n' "$port" \
	> "$tmp/bootstrap/ipv4.json"
printf '{"services": [], "version": "1.0"}\n' > "$tmp/bootstrap/ipv6.json"
asked=$(grep -c accepted "$tmp/silent.out" || true)
"$PLUGHOLE" --db "$adb" attribute --rdap --rdap-bootstrap "$tmp/bootstrap" --rdap-timeout 3 \
	> "$tmp/attribute.out" 2> "$tmp/attribute.err" &
apid=$!
pids+=("$apid")
for _ in $(seq 100); do [ "$(grep -c accepted "$tmp/silent.out")" -gt "$asked" ] && break; sleep 0.1; done
kill -INT "$apid"
status=0
wait "$apid" || status=$?
assert_eq "$status" 130 "attribute after SIGINT"
assert_contains "$(cat "$tmp/attribute.out")" "stopped: attributed 1 of 3 findings"
assert_eq "$(sqlite3 "$adb" "SELECT c.address FROM attributions a JOIN candidates c ON c.id = a.candidate_id")" \
	192.0.2.10 "the finding resolved before the stop is kept, the one whose question was cut short waits"

# ---- the sink: SIGINT exits 130, SIGTERM (a supervisor's stop) 0; both print the counters ----
for sig in INT TERM; do
	"$PLUGHOLE" --db "$db" sink --listen 127.67.0.2:0 --domain sink.test > "$tmp/sink-$sig.out" 2> "$tmp/sink-$sig.err" &
	spid=$!
	pids+=("$spid")
	await "$tmp/sink-$sig.err" "listening on"
	kill -"$sig" "$spid"
	status=0
	wait "$spid" || status=$?
	assert_eq "$status" "$([ "$sig" = INT ] && echo 130 || echo 0)" "sink after SIG$sig"
	assert_contains "$(cat "$tmp/sink-$sig.out")" "sink: 0 sessions"
done

# ---- attribute load: SIGINT mid-file exits 130 and leaves the snapshot as it was ----
printf 'inetnum: 192.0.2.0 - 192.0.2.255\nnetname: OLD\nabuse-c: A1-TEST\nsource: TEST\n\n' > "$tmp/old.db"
run P --db "$db" attribute load --source reg "$tmp/old.db"
assert_eq "$status" 0 "the first load: $err"
before=$(P --db "$db" attribute sources)
mkfifo "$tmp/feed"
# A shell's background job ignores SIGINT; a user's Ctrl-C does not: give it the default back.
env --default-signal=INT "$PLUGHOLE" --db "$db" attribute load --source reg --format rpsl "$tmp/feed" \
	> "$tmp/load.out" 2> "$tmp/load.err" &
lpid=$!
pids+=("$lpid")
exec 3> "$tmp/feed" # returns once the loader has opened the pipe
printf 'inetnum: 198.51.100.0 - 198.51.100.255\nnetname: NEW\nsource: TEST\n\n' >&3
sleep 0.3
kill -INT "$lpid"
status=0
wait "$lpid" || status=$?
exec 3>&-
assert_eq "$status" 130 "attribute load after SIGINT"
assert_eq "$(P --db "$db" attribute sources)" "$before" "the interrupted load left the snapshot as it was"

echo "cli: ok"
