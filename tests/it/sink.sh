#!/usr/bin/env bash
# The proof sink against real clients: swaks and Python's smtplib deliver
# tokens (in a recipient; pipelined; an IPv6 candidate's), tokens only in a
# Subject or body are mail sent back to us (a bounce), never proof, a forged
# token is rejected, an oversized message and a relay
# attempt are refused, hostile clients are cut off, the TCP target hands out
# nonces, and SIGTERM stops the sink with a summary.
# Addresses: sink 127.0.30.1 and [::1] (ports picked by the kernel), clients
# 127.0.30.5 and ::1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"

ADDR=127.0.30.1
CLIENT=127.0.30.5
SEND=(python3 "$(dirname "$0")/lib/smtp_send.py")
tmp=$(mktemp -d)
db="$tmp/db"
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	echo "--- sink stderr" >&2
	tail -n 40 "$tmp/err" >&2
	exit 1
}
P() { "$PLUGHOLE" --db "$db" "$@"; }
sql() { sqlite3 "$db" "$1"; }

# ---- start, and wait for both listeners ----
"$PLUGHOLE" --db "$db" sink --listen "$ADDR:0" --listen "[::1]:0" --domain sink.test --target "$ADDR:0" \
	--max-message 65536 --max-sessions 5 --idle-timeout 3 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do
	[ "$(grep -c 'listening on' "$tmp/err" || true)" = 3 ] && break
	kill -0 "$pid" 2>/dev/null || fail "the sink did not start"
	sleep 0.1
done
port=$(sed -n 's/^sink: listening on 127.0.30.1:\([0-9]*\) (smtp, domain sink.test)$/\1/p' "$tmp/err")
tport=$(sed -n 's/^sink: listening on 127.0.30.1:\([0-9]*\) (target)$/\1/p' "$tmp/err")
port6=$(sed -n 's/^sink: listening on \[::1\]:\([0-9]*\) (smtp, domain sink.test)$/\1/p' "$tmp/err")
[ -n "$port" ] && [ -n "$tport" ] && [ -n "$port6" ] || fail "no listening lines"
SERVER="$ADDR:$port"

t1=$(P token --test 1 127.0.0.9:25)
t2=$(P token --test 2 127.0.0.9:25)
t3=$(P token --test 3 127.0.0.9:25)
t4=$(P token --test 4 '[2001:db8::7]:587')
t5=$(P token --test 5 127.0.0.9:25)
t6=$(P token --test 6 127.0.0.9:25)
t7=$(P token --test 7 127.0.0.9:25)
c=${t5:10:1}
[ "$c" = a ] && n=b || n=a
forged="${t5:0:10}$n${t5:11}"

swaks_to() { # RCPT, then swaks options
	local rcpt=$1
	shift
	swaks --server "$SERVER" --local-interface "$CLIENT" --helo swaks.client --from probe@client.example \
		--to "$rcpt" --header "Subject: swaks relay test" --body "relay test body" "$@" 2>&1
}

# ---- deliveries ----
out=$(swaks_to "$t1@sink.test" --pipeline) || fail "swaks: $out"
assert_contains "$out" "<-  250-PIPELINING"
assert_contains "$out" "<-  250 2.0.0 Ok:"

# A bounce of our test message: the tokens only in the Subject and the body.
out=$("${SEND[@]}" smtplib --server "$SERVER" --source "$CLIENT" --to someone@sink.test \
	--subject "relay test $t2" --body "hello from smtplib, token $t3.") || fail "smtplib: $out"
assert_contains "$out" "refused: none"

# Over IPv6, to the listener's own address literal.
out=$("${SEND[@]}" smtplib --server "[::1]:$port6" --source ::1 --to "$t7@[IPv6:::1]") || fail "smtplib IPv6: $out"
assert_contains "$out" "refused: none"

# Pipelined: the whole envelope in one write, with a stuffed dot in the body.
out=$("${SEND[@]}" script --server "$SERVER" --source "$CLIENT" <<EOF) || fail "pipelining"
< 220 sink.test
> EHLO pipeline.client
> MAIL FROM:<> SIZE=300
> RCPT TO:<$t4@SINK.test>
> RCPT TO:<elsewhere@example.net>
> DATA
< 250 PIPELINING
< 250 2.1.0
< 250 2.1.5
< 550 not a relay, mail for sink.test only
< 354
> Subject: pipelined
>
> ..a line that began with a dot
> .
> VRFY root
> FROB
> QUIT
< 250 2.0.0 Ok
< 252
< 500 5.5.2
< 221
< @close
EOF

# A forged (altered) token: 250, but no proof; the same genuine token again: a duplicate.
out=$(swaks_to "$forged@sink.test") || fail "swaks forged: $out"
assert_contains "$out" "<-  250 2.0.0 Ok:"
out=$(swaks_to "$t1@sink.test") || fail "swaks again: $out"
out=$("${SEND[@]}" smtplib --server "$SERVER" --source "$CLIENT" --to plain@sink.test --body "no token here") ||
	fail "smtplib without token: $out"

# Over the size limit: announced (552 at MAIL), and not announced (read, dropped, 552 at the end).
"${SEND[@]}" script --server "$SERVER" --source "$CLIENT" >/dev/null <<EOF || fail "oversized"
< 220
> EHLO big.client
< 250 SIZE 65536
> MAIL FROM:<a@client.example> SIZE=70000
< 552 5.3.4
> MAIL FROM:<a@client.example>
> RCPT TO:<$t6@sink.test>
> DATA
< 250
< 250
< 354
> Subject: big
>
> @fill 200000
> .
< 552 5.3.4 Message too big
> NOOP
< 250 2.0.0 Ok
EOF

# An over-long line, then the session goes on.
"${SEND[@]}" script --server "$SERVER" --source "$CLIENT" >/dev/null <<EOF || fail "long line"
< 220
> @long 5000
< 500 5.5.2 Line too long
> NOOP
< 250
EOF

# A relay attempt to another domain.
out=$(swaks_to victim@example.org) && fail "swaks relayed: $out"
assert_contains "$out" "<** 550 5.7.1 <victim@example.org>: Relay access denied: not a relay"

# ---- hostile clients ----
sleep 0.3 # let the sink see the last hang-up
out=$("${SEND[@]}" flood --server "$SERVER" --source "$CLIENT" --count 8)
assert_eq "$out" "220: 5, 421: 3, other: 0" "max-sessions 5"
"${SEND[@]}" script --server "$SERVER" --source "$CLIENT" >/dev/null <<EOF || fail "junk"
< 220
> @junk 20
<< 421 4.7.0 sink.test Too many errors
EOF
"${SEND[@]}" script --server "$SERVER" --source "$CLIENT" >/dev/null <<EOF || fail "idle"
< 220
< 421 4.4.2 sink.test Idle timeout
< @close
EOF

# ---- the TCP target ----
banner=$("${SEND[@]}" target --server "$ADDR:$tport" --source "$CLIENT" --wait-banner)
nonce=$(printf '%s' "$banner" | sed -n 's/^220 plughole-target \([0-9a-f]\{32\}\) sink.test ready\r$/\1/p')
[ -n "$nonce" ] || fail "target banner: $banner"
page=$("${SEND[@]}" target --server "$ADDR:$tport" --source "$CLIENT" --request "GET /$t1 HTTP/1.0")
assert_contains "$page" "HTTP/1.0 200 OK"
page_nonce=$(printf '%s' "$page" | sed -n 's/^plughole-target \([0-9a-f]\{32\}\) sink.test\r$/\1/p')
[ -n "$page_nonce" ] && [ "$page_nonce" != "$nonce" ] || fail "target page: $page"
assert_contains "$page" "X-Plughole-Nonce: $page_nonce"
reply=$("${SEND[@]}" target --server "$ADDR:$tport" --source "$CLIENT" --wait-banner --request "HELLO plughole")
assert_contains "$reply" "221 plughole-target"

# ---- stop, and the summary ----
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
assert_eq "$rc" 0 "sink exit status"
assert_eq "$(cat "$tmp/out")" "sink: 17 sessions (3 refused), 7 messages (1 too big, 1 without token), 3 proofs, 1 duplicates, 1 forged (0 not stored), 2 returned, 3 target hits (0 not stored, 0 bytes: over budget), 0 store errors"

# ---- what the store holds ----
proofs=$(P proofs | sed 1d) # the rows, without the header line
assert_eq "$(printf '%s\n' "$proofs" | wc -l)" 3 "proof rows"
row() { printf '%s\n' "$proofs" | awk -F'\t' -v t="$1" '$1 == t'; }
fields() { row "$1" | cut -f "$2"; }
assert_eq "$(fields "$t1" 2-5)" "$(printf '1\t127.0.0.9\t25\t1')"
assert_eq "$(fields "$t1" 8-10)" "$(printf 'swaks.client\tprobe@client.example\t%s@sink.test' "$t1")"
assert_eq "$(row "$t2")$(row "$t3")" "" "tokens only in a Subject or body are no proof"
assert_eq "$(fields "$t4" 2-5)" "$(printf '1\t2001:db8::7\t587\t4')"
assert_eq "$(fields "$t4" 8-10)" "$(printf 'pipeline.client\t\t%s@SINK.test' "$t4")"
for t in "$t1" "$t4"; do
	case "$(fields "$t" 7)" in 127.0.30.5:*) ;; *) fail "peer of $t: $(fields "$t" 7)" ;; esac
done
assert_eq "$(fields "$t7" 7-10 | sed 's/^\[::1\]:[0-9]*\t/PEER\t/')" \
	"$(printf 'PEER\tsmtplib.client\tprobe@client.example\t%s@[IPv6:::1]' "$t7")"
assert_eq "$(fields "$t4" 12)" 53 "size of the pipelined message, unstuffed"
assert_contains "$(sql "select headers from proofs where token = '$t1'")" "Subject: swaks relay test"
assert_eq "$(row "$t6")$(row "$t5")" "" "oversized and forged tokens are no proof"
assert_eq "$(sql "select token, reason from sink_rejects")" "$forged|forged or altered token in the recipient"
assert_eq "$(sql "select count(*) from target_hits where peer like '127.0.30.5:%' and listener = '$ADDR:$tport'")" 3
assert_eq "$(sql "select request, token from target_hits where nonce = '$page_nonce'")" "GET /$t1 HTTP/1.0|$t1"
assert_eq "$(sql "select coalesce(request, '(none)') from target_hits where nonce = '$nonce'")" "(none)"
assert_eq "$(sql "select request from target_hits where request like 'HELLO%'")" "HELLO plughole"
echo "sink: ok"
