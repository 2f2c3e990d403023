#!/usr/bin/env bash
# campaign send through a real Postfix submission server (127.86.1.1) that
# demands STARTTLS (a certificate of the test's own CA, made here with
# openssl) and SASL AUTH (Cyrus sasldb), delivering into a Maildir:
#  - the certificate is verified: without --smtp-ca (the system's CAs) the
#    run stops before any letter, every letter still queued;
#  - a wrong password: a clear error, nothing sent, every letter queued;
#  - --smtp-ca and the right password: every letter delivered over STARTTLS
#    with AUTH (Postfix's log says both); [campaign] smtp_ca does the same;
#  - smtps:// (implicit TLS) on a second listener.
# Traffic: 127.86.1.1 only.
set -euo pipefail
set +m
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/peers.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); [ -z "${KEEP:-}" ] || tmp=$KEEP
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp"/*.out >&2 2>/dev/null || true; tail -n 30 "$PEERS_DIR"/*/maillog >&2 2>/dev/null || true; exit 1; }
ADDR=127.86.1.1
peers_init "$tmp"

# ---- a CA of our own and the server's certificate for the address ----
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=plughole test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$ADDR" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName = IP:%s\nextendedKeyUsage = serverAuth\n' "$ADDR" >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
start_postfix_submission $ADDR 2587 "$tmp/mail/box" "$tmp/server.pem" "$tmp/server.key" letters 's3cret word' 2465 \
  2>"$tmp/postfix.out" || fail "start the submission Postfix"
box=$tmp/mail/box
log=$PEERS_DIR/postfix-maildir-$ADDR-2587/maillog
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
states() { q "select state, count(*) from letters where campaign_id = (select id from campaigns where name = '$1') group by state"; }
printf 's3cret word\n' >"$tmp/right"
printf 'wrong\n' >"$tmp/wrong"
letters_findings "$PLUGHOLE_DB" 4 1
"$PLUGHOLE" campaign create tls --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"
assert_eq "$(states tls)" "queued|4" "four letters queued"

# ---- the certificate is verified by default: our CA is not the system's ----
rc=0
"$PLUGHOLE" campaign send tls --smtp smtp://$ADDR:2587 --user letters@submission.test --password-file "$tmp/right" \
  >"$tmp/noca.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "an untrusted certificate ends the run"
assert_contains "$(cat "$tmp/noca.out")" "TLS certificate does not verify"
assert_contains "$(cat "$tmp/noca.out")" "nothing sent"
assert_eq "$(states tls)" "queued|4" "still queued after an untrusted certificate"

# ---- a wrong password: a clear error, nothing claimed ----
rc=0
"$PLUGHOLE" campaign send tls --smtp smtp://$ADDR:2587 --smtp-ca "$tmp/ca.pem" \
  --user letters@submission.test --password-file "$tmp/wrong" >"$tmp/wrong.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "a refused login ends the run"
assert_contains "$(cat "$tmp/wrong.out")" "the login was refused: 535"
assert_eq "$(states tls)" "queued|4" "still queued after a refused login"
assert_eq "$(q "select count(*) from letter_attempts")" 0 "no attempt recorded"

# ---- the right password over STARTTLS ----
"$PLUGHOLE" campaign send tls --smtp smtp://$ADDR:2587 --smtp-ca "$tmp/ca.pem" \
  --user letters@submission.test --password-file "$tmp/right" >"$tmp/right.out" 2>&1 || fail "send with AUTH"
assert_contains "$(cat "$tmp/right.out")" "4 sent"
assert_eq "$(states tls)" "sent|4" "all sent"
for _ in $(seq 1 100); do [ "$(ls "$box/new" | wc -l)" -ge 4 ] && break; sleep 0.1; done
assert_eq "$(ls "$box/new" | wc -l)" 4 "four messages delivered"
# the check's session (closed without QUIT), then the letters' one: both STARTTLS and AUTH
assert_contains "$(cat "$log")" "ehlo=2 starttls=1 auth=1 commands=4"
assert_contains "$(cat "$log")" "ehlo=2 starttls=1 auth=1 mail=4 rcpt=4 data=4"
assert_contains "$(cat "$log")" "sasl_method=PLAIN, sasl_username=letters@submission.test"
# Postfix recorded the TLS session in each message's Received: line
assert_eq "$(grep -l 'using TLSv1' "$box"/new/* | wc -l)" 4 "each message came over TLS"

# ---- smtps:// (implicit TLS), the CA from the configuration ----
"$PLUGHOLE" campaign create tls2 --domain campaign.test --seed 2 >/dev/null 2>&1 || fail "create tls2"
printf '[campaign]\nsmtp_ca = %s\n' "$tmp/ca.pem" >"$tmp/conf"
"$PLUGHOLE" --config "$tmp/conf" campaign send tls2 --smtp smtps://$ADDR:2465 \
  --user letters@submission.test --password-file "$tmp/right" >"$tmp/smtps.out" 2>&1 || fail "send over smtps"
assert_contains "$(cat "$tmp/smtps.out")" "4 sent"
for _ in $(seq 1 100); do [ "$(ls "$box/new" | wc -l)" -ge 8 ] && break; sleep 0.1; done
assert_eq "$(ls "$box/new" | wc -l)" 8 "eight messages delivered"
echo "letters_tls: ok"
