#!/usr/bin/env bash
# What comes back for letters. A real Postfix smarthost (127.72.2.1) accepts
# the letters; one owner's domain goes on to its own MX (127.72.2.2) that
# refuses the mailbox, so Postfix itself returns an RFC 3464 DSN to the letter's VERP address, which
# it delivers to `plughole sink` (127.72.3.1, the campaign's domain): the
# letter turns bounced with the DSN's status and diagnostic, a letter to the
# owner's next contact (its agency's national contact) is queued, and the
# next send delivers it. Through the sink too: an auto-reply is recorded, not
# a bounce; mail to the unsubscribe address suppresses the contact. Then
# `plughole bounces` reads a Maildir of Exim, qmail and Postfix-text bounces,
# and a second bounce of the national contact ends the chain. A recipient
# Postfix refuses with 5xx at RCPT fails at send.
set -euo pipefail
set +m
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/peers.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); sink=; [ -z "${KEEP:-}" ] || { tmp=$KEEP; mkdir -p "$tmp"; }
trap '[ -z "$sink" ] || kill "$sink" 2>/dev/null || true; peers_stop_all; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err "$PEERS_DIR"/*/maillog >&2 2>/dev/null || true; exit 1; }
FIX="$PLUGHOLE_SRC/tests/fixtures/dsn"
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
peers_init "$tmp"

# the sink for campaign.test, where the bounces come back
"$PLUGHOLE" sink --listen 127.72.3.1:2525 --domain campaign.test >"$tmp/sink.out" 2>"$tmp/sink.err" & sink=$!
wait_port 127.72.3.1 2525 || fail "the sink did not start"
printf 'rejected.example 550 5.1.2 no such domain here\n' >"$tmp/access"
# bouncing.example's own MX (a second Postfix) refuses the mailbox after our smarthost accepted the letter
printf 'bouncing.example 550 5.1.1 mailbox unavailable\n' >"$tmp/access-mx"
start_postfix_maildir 127.72.2.2 2525 "$tmp/mail/mx" "$tmp/access-mx" 2>"$tmp/postfix-mx.err"
printf 'bouncing.example smtp:[127.72.2.2]:2525\ncampaign.test smtp:[127.72.3.1]:2525\n' >"$tmp/transport"
start_postfix_maildir 127.72.2.1 2525 "$tmp/mail/box" "$tmp/access" "$tmp/transport" 2>"$tmp/postfix.err"
box=$tmp/mail/box

letters_findings "$PLUGHOLE_DB" 5 1
ph campaign create c1 --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"
# letter 1 (FTC) bounces after acceptance, letter 2 (AR-CP) is refused at RCPT
q "update letters set recipient = 'abuse@bouncing.example' where id = 1;
   update letters set recipient = 'abuse@rejected.example' where id = 2"
ph campaign send c1 --smtp smtp://127.72.2.1:2525 >"$tmp/send.out" 2>"$tmp/send.err" || fail "send"
assert_contains "$(cat "$tmp/send.out")" "4 sent, 0 deferred, 1 failed"
assert_eq "$(q "select state from letters where id = 2")" failed "5xx at RCPT: failed"
assert_eq "$(q "select recipient || ' ' || state from letters where previous_id = 2")" \
  "abuse-desk@ar-cp.example.org queued" "the 5xx's next contact"
t1=$(q "select ticket from letters where id = 1")
# Postfix's DSN reaches the sink, which bounces letter 1 and queues the next contact's letter
for _ in $(seq 1 100); do [ "$(q "select state from letters where id = 1")" = bounced ] && break; sleep 0.1; done
assert_eq "$(q "select state from letters where id = 1")" bounced "the DSN bounced letter 1"
assert_contains "$(q "select reason from letters where id = 1")" "bounced: 5.1.1"
assert_contains "$(q "select reason from letters where id = 1")" "mailbox unavailable"
assert_eq "$(q "select kind || ' ' || shape || ' ' || action || ' ' || status || ' ' || recipient || ' ' || (length(raw) = raw_size)
                from letter_returns where ticket = '$t1'")" "bounce rfc3464 failed 5.1.1 abuse@bouncing.example 1" "the stored return"
assert_eq "$(q "select recipient || ' ' || state || ' ' || previous_id || ' ' || agency from letters where previous_id = 1")" \
  "abuse-desk@ftc.example.org queued 1 FTC" "the next contact's letter"
assert_contains "$(cat "$tmp/sink.err")" "next letter queued to abuse-desk@ftc.example.org"

# the next send delivers it: four letters first, now the follow-up (same hosts, new ticket)
ph campaign send c1 --smtp smtp://127.72.2.1:2525 >"$tmp/send2.out" 2>&1 || fail "send 2"
assert_contains "$(cat "$tmp/send2.out")" "2 sent"
follow=$(q "select message_id from letters where previous_id = 1")
for _ in $(seq 1 50); do grep -q -r -F "$follow" "$box/new" && break; sleep 0.1; done
grep -q -r -F "$follow" "$box/new" || fail "the follow-up letter was not delivered"
assert_contains "$(grep -l -r -F "$follow" "$box/new" | xargs grep -h '^Delivered-To:')" "abuse-desk@ftc.example.org"

# through the sink: an auto-reply is recorded only; an unsubscribe suppresses the contact
t3=$(q "select ticket from letters where id = 3")
t4=$(q "select ticket from letters where id = 4")
send_raw() { # FIXTURE RCPT TICKET
  python3 - "$1" "$2" "$3" <<'PY'
import smtplib, sys
raw = open(sys.argv[1], "rb").read().replace(b"TICKET", sys.argv[3].encode()).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
with smtplib.SMTP("127.72.3.1", 2525, source_address=("127.72.3.9", 0)) as s:
    s.sendmail("<>", [sys.argv[2]], raw)
PY
}
send_raw "$FIX/autoreply.eml" "bounces+$t3@campaign.test" "$t3"
send_raw "$FIX/unsubscribe.eml" "unsubscribe+$t4@campaign.test" "$t4"
assert_eq "$(q "select state from letters where id = 3")" sent "an auto-reply is no bounce"
assert_eq "$(q "select kind from letter_returns where ticket = '$t3'")" auto-reply "the auto-reply recorded"
r4=$(q "select recipient from letters where id = 4")
assert_contains "$(ph suppress list)" "$r4"
assert_contains "$(ph suppress list)" "unsubscribed by mail (ticket $t4)"

# plughole bounces on a Maildir: Exim's text for letter 3, qmail's for letter 5 (the
# Postfix-text one names the bounced letter 1 by its returned Message-ID: recorded only)
t5=$(q "select ticket from letters where id = 5")
mkdir -p "$tmp/returns"/{new,cur,tmp}
sed "s/TICKET/$t3/g" "$FIX/exim.eml" >"$tmp/returns/new/1.exim"
sed "s/TICKET/$t5/g" "$FIX/qmail.eml" >"$tmp/returns/new/2.qmail"
sed "s/TICKET/$t1/g" "$FIX/postfix-text.eml" >"$tmp/returns/new/3.postfix"
ph bounces "$tmp/returns" >"$tmp/bounces.out" 2>"$tmp/bounces.err" || fail "bounces: $(cat "$tmp/bounces.err")"
cat "$tmp/bounces.out"
assert_eq "$(q "select state from letters where id = 3")" bounced "Exim's bounce"
assert_eq "$(q "select state from letters where id = 5")" bounced "qmail's bounce"
assert_contains "$(q "select reason from letters where id = 5")" "5.1.1"
assert_contains "$(grep "3.postfix" "$tmp/bounces.out")" "the letter is bounced, not sent: only recorded"
assert_eq "$(ls "$tmp/returns/new" | wc -l) $(ls "$tmp/returns/cur" | wc -l)" "0 3" "read messages move to cur/"
# AL-TR's letter 3 -> its national contact; FTC's letter 5 -> the FTC's
assert_eq "$(q "select group_concat(recipient, ' ') from (select recipient from letters where previous_id in (3, 5) order by previous_id)")" \
  "abuse-desk@al-tr.example.org abuse-desk@ftc.example.org" "next contacts"

# the national contact bounces too: the chain ends there
ph campaign send c1 --smtp smtp://127.72.2.1:2525 >/dev/null 2>&1 || fail "send 3"
tf=$(q "select ticket from letters where previous_id = 1")
assert_eq "$(q "select state from letters where ticket = '$tf'")" sent "the follow-up went"
mkdir -p "$tmp/returns2"/{new,cur,tmp}
sed "s/TICKET/$tf/g" "$FIX/qmail.eml" >"$tmp/returns2/new/1"
out=$(ph bounces "$tmp/returns2")
assert_contains "$out" "the national contact itself bounced: the chain ends"
assert_eq "$(q "select count(*) from letters where previous_id = (select id from letters where ticket = '$tf')")" 0 "no third letter"
echo "letters_bounces: ok"
