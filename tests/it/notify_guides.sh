#!/usr/bin/env bash
# A fix guide, followed to the letter on the real software: a Postfix open
# relay on its own 127.66.0.x address, the guide's check (rendered for that
# host) shows it relays; the guide's fix commands, run as written (against
# the peer's config directory, and with the test's own network as
# mynetworks, since every client here is on loopback), close it; the same
# check then gets the refusal the guide describes. The check stops after
# RCPT: no message is ever sent.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
. "$here/lib/peers.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
peers_init "$tmp"
ADDR=127.66.0.10 PORT=2525

start_postfix_open "$ADDR" "$PORT" 127.66.0.12:2525
conf=$PEERS_LAST_DIR
guide=$("$PLUGHOLE_BUILD/tests/test_notify_guides" --render postfix "$ADDR" "$PORT")
code() { grep -E "^    $1" <<<"$guide" | sed 's/^    //'; }

check=$(code 'swaks ')
assert_contains "$check" "swaks --server $ADDR --port $PORT "
assert_contains "$check" "--quit-after RCPT"
read -ra check_args <<<"${check//test@example.net/test@relay.test}"
# bounded, so that a guide that does not work fails the test quickly
run_check() { peers_exec "${check_args[@]}" --timeout 5 2>&1 || true; }

before=$(run_check)
assert_contains "$before" "RCPT TO:<test@relay.test>"
assert_contains "$before" "<-  250"

fixes=$(code 'postconf -e |postfix reload')
assert_eq "$(wc -l <<<"$fixes")" 3 "the guide's fix commands"
while read -r line; do
  case "$line" in
    "postconf -e 'mynetworks = "*) line="postconf -e 'mynetworks = $ADDR/32'" ;;
  esac
  line=${line/postconf -e/postconf -c \"$conf\" -e}
  line=${line/postfix reload/postfix -c \"$conf\" reload}
  echo "notify_guides: $line"
  eval "timeout 20 $line"
done <<<"$fixes"

# smtpd processes restart after the reload: the check is refused as the guide says
for _ in $(seq 1 10); do
  after=$(run_check)
  case "$after" in *"Relay access denied"*) break ;; esac
  sleep 0.5
done
assert_contains "$after" "<** 454 4.7.1 <test@relay.test>: Relay access denied"
assert_contains "$guide" "454 4.7.1 with"
echo "notify_guides: the Postfix guide closed a real open relay, and its check shows it"
