#!/usr/bin/env bash
# The contact chain: an owner whose attribution found three rungs (its
# contact abuse@first.example, then noc@second.example and
# abuse@third.example further down the ladder). campaign create freezes
# them, campaign show lists them. A real Postfix smarthost (127.86.3.1)
# accepts the first letter, whose domain's MX (127.86.3.3) refuses it, and
# returns a DSN to the VERP address, which it routes to `plughole sink` (127.86.3.2): the letter
# turns bounced and the second rung's letter is queued. Postfix refuses the
# second rung with a 5xx at RCPT: failed, and the third rung's letter is
# queued; it is delivered into the Maildir, read back by Python's email
# package. Traffic: 127.86.3.0/24 only.
set -euo pipefail
set +m
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/peers.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); sink=; [ -z "${KEEP:-}" ] || { tmp=$KEEP; mkdir -p "$tmp"; }
trap '[ -z "$sink" ] || kill "$sink" 2>/dev/null || true; peers_stop_all; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err "$PEERS_DIR"/*/maillog >&2 2>/dev/null || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
SMTP=smtp://127.86.3.1:2525
peers_init "$tmp"
"$PLUGHOLE" sink --listen 127.86.3.2:2525 --domain campaign.test >"$tmp/sink.out" 2>"$tmp/sink.err" & sink=$!
wait_port 127.86.3.2 2525 || fail "the sink did not start"
printf 'second.example 550 5.1.2 no such mailbox here\n' >"$tmp/access"
# first.example's own MX (a second Postfix) refuses the mailbox after the smarthost accepted the letter
printf 'first.example 550 5.1.1 mailbox unavailable\n' >"$tmp/access-mx"
start_postfix_maildir 127.86.3.3 2525 "$tmp/mail/mx" "$tmp/access-mx" 2>"$tmp/postfix-mx.err"
printf 'first.example smtp:[127.86.3.3]:2525\ncampaign.test smtp:[127.86.3.2]:2525\n' >"$tmp/transport"
start_postfix_maildir 127.86.3.1 2525 "$tmp/mail/box" "$tmp/access" "$tmp/transport" 2>"$tmp/postfix.err"
box=$tmp/mail/box

# one owner (FTC) with two hosts; its attribution's contact and further rungs as attribute writes them
letters_findings "$PLUGHOLE_DB" 1 2
q "update attributions set contact = 'abuse@first.example',
   further = '[{\"rung\":\"parent-abuse-c\",\"contact\":\"noc@second.example\"},{\"rung\":\"as-abuse\",\"contact\":\"abuse@third.example\"}]'"
ph campaign create chain --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"
# a later attribution does not change the frozen chain
q "update attributions set further = NULL"
chain='abuse@first.example (range-abuse-c) > noc@second.example (parent-abuse-c) > abuse@third.example (as-abuse)'
assert_eq "$(ph campaign show chain --format tsv | awk -F'\t' 'NR > 1 { print $NF }' | sort -u)" "$chain" "campaign show: the chain"

# rung 1: accepted, then Postfix's DSN through the sink bounces it and queues rung 2
ph campaign send chain --smtp "$SMTP" >"$tmp/send1.out" 2>&1 || fail "send 1"
assert_contains "$(cat "$tmp/send1.out")" "1 sent"
for _ in $(seq 1 100); do [ "$(q "select state from letters where id = 1")" = bounced ] && break; sleep 0.1; done
assert_eq "$(q "select state from letters where id = 1")" bounced "the DSN bounced the first rung's letter"
assert_contains "$(cat "$tmp/sink.err")" "next letter queued to noc@second.example"
assert_eq "$(q "select recipient || ' ' || state || ' ' || previous_id from letters where id = 2")" \
  "noc@second.example queued 1" "the second rung's letter"

# rung 2: 550 at RCPT, failed, rung 3 queued
ph campaign send chain --smtp "$SMTP" >"$tmp/send2.out" 2>&1 || fail "send 2"
assert_contains "$(cat "$tmp/send2.out")" "0 sent, 0 deferred, 1 failed"
assert_contains "$(q "select reason from letters where id = 2")" "550 5.1.2"
assert_eq "$(q "select recipient || ' ' || state || ' ' || previous_id from letters where id = 3")" \
  "abuse@third.example queued 2" "the third rung's letter"

# rung 3 gets the letter
ph campaign send chain --smtp "$SMTP" >"$tmp/send3.out" 2>&1 || fail "send 3"
assert_contains "$(cat "$tmp/send3.out")" "1 sent"
for _ in $(seq 1 100); do [ "$(ls "$box/new" | wc -l)" -ge 1 ] && break; sleep 0.1; done
/usr/bin/python3 - "$box/new" "$(q "select message_id from letters where id = 3")" <<'PY' || fail "the delivered letter"
import email, email.policy, os, sys
files = os.listdir(sys.argv[1])
assert len(files) == 1, files  # the first rung's letter bounced, the second's was refused
m = email.message_from_binary_file(open(os.path.join(sys.argv[1], files[0]), "rb"), policy=email.policy.default)
assert m["Delivered-To"] == "abuse@third.example", m["Delivered-To"]
assert m["To"].addresses[0].addr_spec == "abuse@third.example", m["To"]
assert m["Message-ID"] == sys.argv[2], (m["Message-ID"], sys.argv[2])
csv = [p for p in m.iter_attachments() if p.get_content_type() == "text/csv"][0].get_content()
assert csv.count("\r\n") == 3, csv  # the header and the owner's two hosts
print("ok")
PY
assert_eq "$(q "select group_concat(state, ' ') from (select state from letters order by id)")" "bounced failed sent" "the chain's letters"
echo "letters_chain: ok"
