#!/usr/bin/env bash
# verify against REAL Exim 4 (Debian's exim4-daemon-light, stock limits):
# an open one must be proven open-relay, a closed one must be closed
# (issue 11, item 8). Exim ends a session at its 4th syntax error
# (smtp_max_synprot_errors = 3) and several of our variants are syntax errors
# to it (domain literals), so the variant it accepted must get its message
# before the exotic ones cost the session, or on a connection of its own.
# Addresses: 127.64.2.x.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/relay_verdicts.sh
. "$here/lib/relay_verdicts.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
export PEERS_DNS_ADDR=127.64.2.53
peers_init "$tmp"
SINK_ADDR=127.64.2.1 SINK_PORT=2525
OPEN=127.64.2.2 CLOSED=127.64.2.3

start_exim_open "$OPEN" 25 "$SINK_ADDR:$SINK_PORT"
start_exim_closed "$CLOSED" 25

relay_verify "$tmp" "$SINK_ADDR:$SINK_PORT" "$OPEN" "$CLOSED" -- --total-timeout 20 --retry-after 2

v=$(verdict "$CLOSED")
[ "$v" = closed ] || { explain "$CLOSED"; assert_eq "$v" closed "verdict of the closed Exim"; }
v=$(verdict "$OPEN")
[ "$v" = open-relay ] || { explain "$OPEN"; assert_eq "$v" open-relay "verdict of the open Exim"; }
assert_eq "$(awk -F'\t' -v a="$OPEN" '$1 == a { print $7 }' "$RELAY_FINDINGS")" Exim "software of the open Exim"
# The proof came through Exim itself: its own log shows the delivery to the sink.
assert_contains "$(cat "$PEERS_DIR"/exim-open-*/main.log)" "T=remote_smtp H=$SINK_ADDR"
echo "verify_exim: ok"
