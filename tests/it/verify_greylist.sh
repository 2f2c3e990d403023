#!/usr/bin/env bash
# verify against REAL greylisting: Postfix asking Debian's postgrey
# (check_policy_service), which answers 450 to the first attempt of a
# (client, sender, recipient) triplet and accepts the same triplet after its
# delay (issue 11, item 7). An open relay behind it must be proven open-relay:
# the retry after a 4xx presents the same envelope as the deferred attempt.
# A closed one behind the same greylisting must never be called open.
# Addresses: 127.64.3.x.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/relay_verdicts.sh
. "$here/lib/relay_verdicts.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
# postgrey's delay; the first retry (--retry-after) comes after it.
export PEERS_DNS_ADDR=127.64.3.53 PEERS_GREYLIST_DELAY=2
peers_init "$tmp"
SINK_ADDR=127.64.3.1 SINK_PORT=2525
OPEN=127.64.3.2 CLOSED=127.64.3.3 POLICY_ADDR=127.64.3.4 POLICY_PORT=10023

start_postgrey "$POLICY_ADDR" "$POLICY_PORT"
start_postfix_greylist "$OPEN" 25 "$SINK_ADDR:$SINK_PORT" "$POLICY_ADDR" "$POLICY_PORT"
start_postfix_greylist_closed "$CLOSED" 25 "$POLICY_ADDR" "$POLICY_PORT"

relay_verify "$tmp" "$SINK_ADDR:$SINK_PORT" "$OPEN" "$CLOSED" -- \
  --total-timeout 40 --retry-after $((PEERS_GREYLIST_DELAY + 1))

# The closed relay: refused, or still deferred; never open, never accepted.
v=$(verdict "$CLOSED")
case $v in
  closed|tempfail) ;;
  *) explain "$CLOSED"; assert_eq "$v" "closed or tempfail" "verdict of the closed Postfix behind postgrey" ;;
esac
v=$(verdict "$OPEN")
[ "$v" = open-relay ] || { explain "$OPEN"; assert_eq "$v" open-relay "verdict of the open Postfix behind postgrey"; }
# It was greylisted first, then passed: postgrey saw a triplet come back.
log=$(cat "$PEERS_DIR"/postgrey-*/stdout.log)
assert_contains "$log" "action=greylist, reason=new"
assert_contains "$log" "action=pass, reason=triplet found"
echo "verify_greylist: ok"
