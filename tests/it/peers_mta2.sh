#!/usr/bin/env bash
# Integration test of the second set of real MTA peers (tests/it/lib/peers.sh):
# Exim 4 open and closed, and Postfix behind Debian's postgrey. Each must
# behave as the relay tests against it will assume (issue 11, items 7 and 8):
#   - open Exim relays to a sink; closed Exim refuses a foreign RCPT;
#   - Exim ends a session at its 4th syntax error (smtp_max_synprot_errors 3),
#     and these are the forms that count (and do not) in Exim 4.96;
#   - Postfix + postgrey answers 450 to a new (client, sender, recipient)
#     triplet, accepts the same triplet after the delay, greylists a new
#     recipient again; the closed one refuses at once.
# No peer, and no client here, may ask DNS.
# Addresses: 127.64.1.x.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers_checks.sh
. "$here/lib/peers_checks.sh"

export PEERS_DNS_ADDR=127.64.1.53 PEERS_GREYLIST_DELAY=3
checks_session swaks

SINK=127.64.1.1:2525
checks_sink 127.64.1.1 2525 "$tmp/mail"

# rcpt_reply SERVER RCPT: the server's (last) reply line to RCPT TO.
rcpt_reply() {
  swaks_to "$1" "$2" rcpt-only --quit-after RCPT |
    awk '/^ *-> RCPT TO/ { rcpt = 1; next }
         rcpt && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' || true
}

# dialogue NAME SERVER < SCRIPT: play an smtp_send.py script (see there).
dialogue() {
  local name=$1 server=$2 out
  if out=$(peers_exec "$PEERS_PYTHON" "$here/lib/smtp_send.py" script --server "$server" \
             --source 127.0.0.1 2>&1); then
    ok "$name"
  else
    bad "$name: $out"
  fi
}

echo "# Exim"
t0=$(now)
start_exim_open 127.64.1.2 25 "$SINK"
echo "exim open relay: start to 220 banner in $(ms_since "$t0") ms"
expect_relay exim-open 127.64.1.2:25 someone@sink.test
t0=$(now)
start_exim_closed 127.64.1.3 25
echo "exim closed: start to 220 banner in $(ms_since "$t0") ms"
reply=$(rcpt_reply 127.64.1.3:25 someone@sink.test)
if [[ $reply == 550* ]]; then ok "exim-closed refused a foreign RCPT: $reply"; else bad "exim-closed: $reply"; fi
reply=$(rcpt_reply 127.64.1.3:25 postmaster@exim-closed.test)
if [[ $reply == 250* ]]; then ok "exim-closed accepts its own domain: $reply"; else bad "exim-closed local: $reply"; fi

# Exim counts syntax and protocol errors: an address it cannot parse (a
# domain literal while allow_domain_literals is off, no local part, a
# malformed domain) and a command out of sequence (503; but not a RCPT right
# after a refused MAIL, which a pipelining client sends). The session survives
# three, with the recipient accepted among them; the 4th ends it.
dialogue "exim drops the session at the 4th counted error (RCPT literals)" 127.64.1.2:25 <<'EOF'
< 220
> EHLO client.test
< 250
> MAIL FROM:<tester@client.test>
< 250
> RCPT TO:<someone@sink.test>
< 250 Accepted
> RCPT TO:<someone@[127.64.1.1]>
< 501 domain literals not allowed
> RCPT TO:<"someone@sink.test"@[127.64.1.2]>
< 501 domain literals not allowed
> RCPT TO:<someone%sink.test@[127.64.1.2]>
< 501 domain literals not allowed
> RCPT TO:<sink.test!someone@[127.64.1.2]>
< 501 Too many syntax or protocol errors
< @close
EOF
dialogue "exim counts MAIL parse errors and commands out of sequence" 127.64.1.2:25 <<'EOF'
< 220
> EHLO client.test
< 250
> RCPT TO:<someone@sink.test>
< 503 sender not yet given
> MAIL FROM:<@bad>
< 501 no local part
> MAIL FROM:<relaytest@[127.64.1.2]>
< 501 domain literals not allowed
> MAIL FROM:<tester@client.test>
< 250
> RCPT TO:<someone@b..c>
< 501 Too many syntax or protocol errors
< @close
EOF
# Refusals that do not count: an unqualified address (sender, or recipient:
# quoted "a@b", bang path a!b), 501 all the same, and the ACL's 550; a source
# route is stripped and accepted. The session goes on.
dialogue "exim does not count unqualified addresses or ACL refusals" 127.64.1.2:25 <<'EOF'
< 220
> EHLO client.test
< 250
> MAIL FROM:<relaytest>
< 501 sender address must contain a domain
> MAIL FROM:<relaytest>
< 501 sender address must contain a domain
> MAIL FROM:<relaytest>
< 501 sender address must contain a domain
> MAIL FROM:<relaytest>
< 501 sender address must contain a domain
> MAIL FROM:<tester@client.test>
< 250
> RCPT TO:<"someone@sink.test">
< 501 recipient address must contain a domain
> RCPT TO:<sink.test!someone>
< 501 recipient address must contain a domain
> RCPT TO:<"someone@sink.test">
< 501 recipient address must contain a domain
> RCPT TO:<sink.test!someone>
< 501 recipient address must contain a domain
> RCPT TO:<someone%sink.test@exim-open.test>
< 550 Restricted characters
> RCPT TO:<sink.test!someone@exim-open.test>
< 550 Restricted characters
> RCPT TO:<"someone@sink.test"@exim-open.test>
< 550 Restricted characters
> RCPT TO:<someone%sink.test@exim-open.test>
< 550 Restricted characters
> RCPT TO:<@exim-open.test:someone@sink.test>
< 250 Accepted
> QUIT
< 221
EOF
if grep -qs 'dropped: too many syntax or protocol errors' "$PEERS_DIR"/exim-open-*/main.log; then
  ok "exim logged the dropped sessions"
else
  bad "exim's main.log does not mention the dropped sessions"
fi

echo "# Postfix + postgrey (delay ${PEERS_GREYLIST_DELAY}s)"
t0=$(now)
start_postgrey 127.64.1.4 10023
echo "postgrey: start to listener in $(ms_since "$t0") ms"
start_postfix_greylist 127.64.1.5 25 "$SINK" 127.64.1.4 10023
start_postfix_greylist_closed 127.64.1.6 25 127.64.1.4 10023

rcpt=grey-$RANDOM@sink.test
t_first=$(now)
reply=$(rcpt_reply 127.64.1.5:25 "$rcpt")
if [[ $reply == "450 4.2.0"*Greylisted* ]]; then ok "first attempt greylisted: $reply"; else bad "first attempt: $reply"; fi
reply=$(rcpt_reply 127.64.1.5:25 "$rcpt")
if [[ $reply == 450* ]]; then ok "a retry within the delay is greylisted still"; else bad "retry within the delay: $reply"; fi
# Wait out the delay from the first attempt (postgrey counts whole seconds).
while (( $(ms_since "$t_first") < (PEERS_GREYLIST_DELAY + 1) * 1000 )); do sleep 0.1; done
expect_relay "same triplet after the delay" 127.64.1.5:25 "$rcpt"
reply=$(rcpt_reply 127.64.1.5:25 "other-$rcpt")
if [[ $reply == 450* ]]; then ok "a new recipient is greylisted again: $reply"; else bad "new recipient: $reply"; fi
reply=$(rcpt_reply 127.64.1.6:25 "$rcpt")
if [[ $reply == "554 5.7.1"* ]]; then ok "closed Postfix with greylisting refuses at once: $reply"; else bad "closed greylist: $reply"; fi
if grep -qs 'action=pass, reason=triplet found' "$PEERS_DIR"/postgrey-*/stdout.log; then
  ok "postgrey logged the passed triplet"
else
  bad "postgrey's log has no passed triplet"
fi

checks_isolation
checks_summary
