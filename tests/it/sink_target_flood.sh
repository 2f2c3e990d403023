#!/usr/bin/env bash
# The TCP target stores a row per connection: a client hammering it with
# 1,000-byte lines for 5 s (it grew the store by 24 MB before) grows the store
# by a bounded amount, its hits are counted, and proofs (a target hit with a
# genuine token from that same client, a message to the SMTP side) are still
# stored afterwards.
# Addresses: sink 127.62.3.1 (ports picked by the kernel), client 127.62.3.5.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
ADDR=127.62.3.1 CLIENT=127.62.3.5
SEND=(python3 "$(dirname "$0")/lib/smtp_send.py")
tmp=$(mktemp -d); db="$tmp/db"; pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp/err" >&2; exit 1; }
sql() { sqlite3 "$db" "$1"; }
size() { cat "$db" "$db-wal" 2>/dev/null | wc -c; }

"$PLUGHOLE" --db "$db" sink --listen "$ADDR:0" --target "$ADDR:0" --domain sink.test >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do
	[ "$(grep -c 'listening on' "$tmp/err" || true)" = 2 ] && break
	kill -0 "$pid" 2>/dev/null || fail "the sink did not start"
	sleep 0.1
done
port=$(sed -n "s/^sink: listening on $ADDR:\([0-9]*\) (smtp, domain sink.test)\$/\1/p" "$tmp/err")
tport=$(sed -n "s/^sink: listening on $ADDR:\([0-9]*\) (target)\$/\1/p" "$tmp/err")
[ -n "$port" ] && [ -n "$tport" ] || fail "no listening lines"
before=$(size)

# 5 s of connections from one address, each with a 998-byte line.
connections=$(python3 - "$ADDR" "$tport" "$CLIENT" <<'PY'
import socket, sys, time
host, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
line = b"X" * 998 + b"\r\n"
n, end = 0, time.monotonic() + 5
while time.monotonic() < end:
    s = socket.create_connection((host, port), timeout=5, source_address=(source, 0))
    s.sendall(line)
    got = b""
    while b"\r\n" not in got.split(b"\r\n", 1)[-1] and len(got) < 4096:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    n += 1
print(n)
PY
)
[ "$connections" -ge 200 ] || fail "the hammer made only $connections connections"
sleep 0.5
stored=$(sql "select count(*) from target_hits where peer like '$CLIENT:%'")
grown=$(($(size) - before))
echo "hammer: $connections connections in 5 s, $stored rows stored, store grew by $grown bytes"
[ "$stored" -le 20 ] || fail "$stored target hits stored from one address in 5 s (at most 20 a minute)"
[ "$grown" -le 1048576 ] || fail "the store grew by $grown bytes"
assert_contains "$(cat "$tmp/err")" "sink: target: $CLIENT"
assert_contains "$(cat "$tmp/err")" "is over its store budget"

# Proofs still land: a genuine token through the target, from the same address...
t1=$("$PLUGHOLE" --db "$db" token --test 1 127.0.0.9:25)
out=$("${SEND[@]}" target --server "$ADDR:$tport" --source "$CLIENT" --request "GET /$t1 HTTP/1.0") || fail "target: $out"
assert_contains "$out" "HTTP/1.0 200 OK"
sleep 0.2
assert_eq "$(sql "select count(*) from target_hits where token = '$t1'")" 1 "the hit with a genuine token is stored"
# ... and a message to the SMTP side.
t2=$("$PLUGHOLE" --db "$db" token --test 2 127.0.0.9:25)
out=$("${SEND[@]}" smtplib --server "$ADDR:$port" --source "$CLIENT" --to "$t2@sink.test") || fail "smtplib: $out"
assert_contains "$out" "250"
assert_eq "$(sql "select count(*) from proofs where token = '$t2'")" 1 "the proof is stored"

kill -TERM "$pid"; wait "$pid" || true; pid=
dropped=$(sed -n 's/.*target hits (\([0-9]*\) not stored.*/\1/p' "$tmp/out")
[ "$dropped" -ge $((connections - 20)) ] || fail "the summary counts $dropped hits not stored: $(cat "$tmp/out")"
echo "ok: the target stored $stored of $connections hits; $dropped counted, not stored"
