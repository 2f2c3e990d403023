#!/usr/bin/env bash
# campaign send through a real Postfix smarthost (127.72.1.1) that delivers
# into a Maildir, read back by Python's email package: headers (From, To,
# Subject, Message-ID, Auto-Submitted, List-Unsubscribe/-Post), the VERP
# return path Postfix recorded, the MIME structure, the UTF-8 letter, the CSV.
# Then: a 5xx domain ends failed, a 4xx domain deferred with a back-off and
# tried again later, a contact suppressed after create is suppressed at send,
# the global and per-domain rate limits space the submissions, and a send
# killed with SIGKILL mid-way and resumed (the letter left in 'sending'
# resolved as the smarthost's log says) delivers every letter exactly once.
set -euo pipefail
set +m
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/peers.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); sender=; [ -z "${KEEP:-}" ] || tmp=$KEEP
trap '[ -z "$sender" ] || kill -9 "$sender" 2>/dev/null || true; peers_stop_all; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.err "$PEERS_DIR"/*/maillog >&2 2>/dev/null || true; exit 1; }
peers_init "$tmp"
SMTP=smtp://127.72.1.1:2525
printf 'rejected.example 550 5.1.2 no such domain here\ntempfail.example 450 4.2.0 try again later\n' >"$tmp/access"
start_postfix_maildir 127.72.1.1 2525 "$tmp/mail/box" "$tmp/access" 2>"$tmp/postfix.err"
box=$tmp/mail/box
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
# Postfix delivers within about a second of accepting: wait until n messages are there
await_mail() {
  local n=$1
  for _ in $(seq 1 100); do
    [ "$(ls "$box/new" | wc -l)" -ge "$n" ] && return 0
    sleep 0.1
  done
  fail "expected $n messages in the Maildir, found $(ls "$box/new" | wc -l)"
}
message_ids() { grep -h -i -m1 '^Message-Id:' "$box"/new/* | sort; }

# ---- six owners: one refused with 5xx, one deferred with 4xx, one suppressed after create ----
letters_findings "$PLUGHOLE_DB" 6 2
ph campaign create c1 --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"
q "update letters set recipient = 'abuse@rejected.example' where id = 2;
   update letters set recipient = 'abuse@tempfail.example' where id = 4"
ph suppress add abuse@o3.example --reason "asked after the campaign was made" >/dev/null
ph campaign send c1 --smtp "$SMTP" >"$tmp/send1.out" 2>"$tmp/send1.err" || fail "send: $(cat "$tmp/send1.err")"
assert_contains "$(cat "$tmp/send1.out")" "campaign send: 3 sent, 1 deferred, 1 failed, 1 suppressed at send"
assert_eq "$(q "select group_concat(state, ' ') from (select state from letters order by id)")" \
  "sent failed suppressed deferred sent sent queued" "the letters' states"
# the 5xx moves the owner (AR-CP, no further rung here) to the agency's national contact
assert_eq "$(q "select recipient || ' ' || previous_id from letters where id = 7")" \
  "abuse-desk@ar-cp.example.org 2" "the refused letter's follow-up"
assert_contains "$(q "select reason from letters where id = 2")" "550 5.1.2"
assert_contains "$(q "select reason from letters where id = 4")" "450 4.2.0"
assert_contains "$(q "select reason from letters where id = 3")" "address abuse@o3.example"
assert_eq "$(q "select next_attempt - updated between 299 and 301 from letters where id = 4")" 1 "back-off: 300 s"
await_mail 3
sleep 0.5
assert_eq "$(ls "$box/new" | wc -l)" 3 "three letters delivered"

# ---- the delivered messages, by an independent parser ----
q "select ticket, ticket_key, message_id, recipient from letters where state = 'sent' order by id" >"$tmp/sent"
python3 - "$box/new" "$tmp/sent" <<'PY' || fail "the delivered messages"
import csv, email, email.policy, io, os, sys
d = sys.argv[1]
sent = {mid: (t, k, rcpt) for t, k, mid, rcpt in (l.strip().split("|") for l in open(sys.argv[2]))}
seen = set()
for name in os.listdir(d):
    raw = open(os.path.join(d, name), "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    mid = m["Message-ID"]
    assert mid in sent, mid
    ticket, key, rcpt = sent[mid]
    seen.add(mid)
    # the envelope: Postfix writes the MAIL FROM as Return-Path
    assert m["Return-Path"] == f"<bounces+{ticket}@campaign.test>", m["Return-Path"]
    assert m["Delivered-To"] == rcpt and m["To"].addresses[0].addr_spec == rcpt
    assert ticket in str(m["Subject"])
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"\nList-Unsubscribe: <https://plughole.invalid/t/{ticket}/{key}/unsubscribe>".encode() in raw
    assert m.get_content_type() == "multipart/mixed"
    text, att = list(m.iter_parts())
    assert text.get_content_type() == "text/plain" and text.get_content_charset() == "utf-8"
    body = text.get_content()
    assert f"https://plughole.invalid/t/{ticket}/{key}" in body
    if rcpt == "abuse@o1.example":
        assert "Telecomunicaciones Núñez S.A." in body
    rows = list(csv.reader(io.StringIO(att.get_payload(decode=True).decode("utf-8"), newline="")))
    assert rows[0] == ["timestamp", "ip", "port", "protocol", "verdict", "asn", "country", "software", "ticket"], rows[0]
    assert len(rows) == 3 and all(r[8] == ticket and r[1].startswith("127.72.2") for r in rows[1:]), rows
assert seen == set(sent), (seen, set(sent))
print("ok")
PY

# ---- the 4xx letter goes again once its back-off is over (and is deferred again);
# the refused letter's follow-up goes at once ----
ph campaign send c1 --smtp "$SMTP" >"$tmp/send2.out" 2>&1 || fail "second send"
assert_contains "$(cat "$tmp/send2.out")" "1 sent, 0 deferred"
assert_eq "$(q "select state from letters where id = 7")" sent "the follow-up went"
q "update letters set next_attempt = 0 where id = 4"
ph campaign send c1 --smtp "$SMTP" --retry-after 60 >"$tmp/send3.out" 2>&1 || fail "third send"
assert_contains "$(cat "$tmp/send3.out")" "0 sent, 1 deferred"
assert_eq "$(q "select count(*) from letter_attempts where letter_id = 4 and outcome = 'tempfail'")" 2 "two tempfails"
assert_eq "$(q "select next_attempt - updated between 119 and 121 from letters where id = 4")" 1 "back-off doubled"

# ---- rate limits: 5 letters at 120 a minute take 2 s; per domain 60 a minute, 3 letters to one domain 2 s ----
q "delete from suppressions where value = 'abuse@o3.example'"
ph campaign create rate --domain campaign.test --seed 2 >/dev/null 2>&1 || fail "create rate"
connects() { grep -c 'smtpd.*: connect from' "$PEERS_DIR"/postfix-maildir-127.72.1.1-2525/maillog || true; }
connects_before=$(connects)
start=$(date +%s.%N)
ph campaign send rate --smtp "$SMTP" --rate 120 >"$tmp/rate.out" 2>&1 || fail "send --rate"
elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
assert_contains "$(cat "$tmp/rate.out")" "6 sent"
# one connection for the six letters (libcurl's kept handle; Postfix's smtpd idles 300 s),
# after the session check's own
assert_eq "$(( $(connects) - connects_before ))" 2 "connection reuse"
# six letters, the first at once: five gaps of 0.5 s
assert_eq "$(echo "$elapsed >= 2.45 && $elapsed < 6" | bc -l)" 1 "global rate: $elapsed s for 6 letters at 120/min"
ph campaign create dom --domain campaign.test --seed 3 >/dev/null 2>&1 || fail "create dom"
q "update letters set recipient = 'abuse-' || id || '@same.example' where campaign_id = (select id from campaigns where name = 'dom') and id % 2 = 0"
start=$(date +%s.%N)
ph campaign send dom --smtp "$SMTP" --per-domain 60 >"$tmp/dom.out" 2>&1 || fail "send --per-domain"
elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
# three letters to same.example: two gaps of 1 s; the three others need not wait
assert_eq "$(echo "$elapsed >= 1.95 && $elapsed < 4" | bc -l)" 1 "per-domain rate: $elapsed s"
q "select started from letter_attempts a join letters l on l.id = a.letter_id
   where l.recipient like '%@same.example' order by a.id" >"$tmp/dom.times"
assert_eq "$(awk 'NR > 1 && $1 - prev < 1 { bad = 1 } { prev = $1 } END { print bad + 0 }' "$tmp/dom.times")" 0 \
  "same.example letters at least a second apart"
await_mail 15

# ---- --require-tls against a smarthost without STARTTLS: nothing goes in clear, the letters stay queued ----
ph campaign create tls --domain campaign.test --seed 5 >/dev/null 2>&1 || fail "create tls"
before=$(ls "$box/new" | wc -l)
rc=0
ph campaign send tls --smtp "$SMTP" --require-tls >"$tmp/tls.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "send --require-tls without STARTTLS"
assert_contains "$(cat "$tmp/tls.out")" "it offers no STARTTLS (--require-tls)"
assert_eq "$(q "select state, count(*) from letters where campaign_id = (select id from campaigns where name = 'tls') group by state")" "queued|6" "letters still queued"
sleep 1
assert_eq "$(ls "$box/new" | wc -l)" "$before" "nothing delivered without TLS"

# ---- kill -9 mid-send, then resume: every letter exactly once ----
letters_before=$(ls "$box/new" | wc -l)
"$PLUGHOLE" --db "$tmp/big.db" suppress add @never.example --reason x >/dev/null
PLUGHOLE_DB="$tmp/big.db" letters_findings "$tmp/big.db" 400 1
ph --db "$tmp/big.db" campaign create big --domain campaign.test --seed 4 >/dev/null 2>&1 || fail "create big"
"$PLUGHOLE" --db "$tmp/big.db" campaign send big --smtp "$SMTP" >"$tmp/big1.out" 2>&1 & sender=$!
for _ in $(seq 1 300); do
  [ "$(sqlite3 "$tmp/big.db" "select count(*) from letters where state = 'sent'")" -ge 100 ] && break
  sleep 0.05
done
for _ in $(seq 1 200); do   # kill while a letter is in the SMTP transaction
  [ "$(sqlite3 "$tmp/big.db" "select count(*) from letters where state = 'sending'")" -ge 1 ] && break
done
kill -9 "$sender"; wait "$sender" 2>/dev/null || true; sender=
in_flight=$(sqlite3 "$tmp/big.db" "select message_id from letters where state = 'sending'")
sent_before=$(sqlite3 "$tmp/big.db" "select count(*) from letters where state = 'sent'")
echo "killed with $sent_before sent, in flight: ${in_flight:-none}"
[ "$sent_before" -lt 400 ] || fail "the send ended before the kill"
sleep 2 # Postfix delivers what it accepted
status=0; ph --db "$tmp/big.db" campaign send big --smtp "$SMTP" >"$tmp/big2.out" 2>"$tmp/big2.err" || status=$?
if [ -n "$in_flight" ]; then
  # nothing sent while a letter's fate is open; the operator looks in the smarthost's records
  assert_eq "$status" 1 "send refuses while a letter is in sending"
  assert_contains "$(cat "$tmp/big2.err")" "$in_flight"
  assert_eq "$(sqlite3 "$tmp/big.db" "select count(*) from letters where state = 'sent'")" "$sent_before" "nothing sent"
  if grep -q -i -r "^Message-Id: $in_flight" "$box/new"; then resolve=sent; else resolve=resend; fi
  echo "the letter in flight: --resolve-sending=$resolve"
  ph --db "$tmp/big.db" campaign send big --smtp "$SMTP" --resolve-sending=$resolve >"$tmp/big3.out" 2>&1 ||
    fail "resumed send: $(cat "$tmp/big3.out")"
else
  [ "$status" -eq 0 ] || fail "resumed send: $(cat "$tmp/big2.err")"
fi
assert_eq "$(sqlite3 "$tmp/big.db" "select state, count(*) from letters group by state")" "sent|400" "all sent"
await_mail $(( letters_before + 400 ))
sleep 1
sqlite3 "$tmp/big.db" "select message_id from letters order by message_id" >"$tmp/big.ids"
message_ids | grep -F -f <(sed 's/.*/&/' "$tmp/big.ids") | sed 's/^[^<]*//' | sort >"$tmp/delivered.ids"
assert_eq "$(wc -l <"$tmp/delivered.ids")" 400 "400 deliveries of the big campaign"
assert_eq "$(sort -u "$tmp/delivered.ids" | wc -l)" 400 "400 distinct Message-IDs: none twice"
assert_eq "$(sort -u "$tmp/delivered.ids")" "$(sort "$tmp/big.ids")" "every letter delivered"
echo "letters_send: ok"
