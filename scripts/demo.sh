#!/usr/bin/env bash
# The demo: the whole job on the built-in demo network, all on 127.0.0.0/8.
#   1. ingest the sample feeds in data/demo/ (every format, some bad lines,
#      some excluded ranges);
#   2. run the sink alone and send it one message carrying a valid token;
#   3. start plughole-lab, which plays the demo's mail servers on 127.20.B.N,
#      and verify every candidate against it; print the findings;
#   4. attribute each finding to its range's owner and abuse contact from the
#      demo registry data (RPSL, delegated stats, pfx2as) and list the owners;
#   5. freeze a campaign with a control group, preview two letters, send the
#      treatment group's letters through a real local Postfix (127.72.9.1,
#      delivering every message into one Maildir) and show where they are;
#   6. the lab "fixes" a share of the hosts (seeded: more of the treatment
#      group's than of the control group's, as a campaign would hope), and
#      'plughole recheck' verifies every host of the campaign again and prints
#      the round's outcomes; then the report (its verb comes with issue 13.3).
set -euo pipefail
set +m # peers.sh records its servers' PIDs: no job control
plughole=$(realpath "${1:-build/plughole}")
build=$(dirname "$plughole")
lab="$build/plughole-lab"
src=$(cd "$(dirname "$0")/.." && pwd)
run="$src/demo-run"
rm -rf "$run"; mkdir -p "$run"
db="$run/demo.db"
pids=()
# the demo's letters go through Postfix: make sure it is there (Debian package, no daemon started)
bash "$(dirname "$0")/install-deps.sh" --with-demo
. "$(dirname "$0")/../tests/it/lib/peers.sh"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -z "${PEERS_DIR:-}" ] || peers_stop_all
}
trap cleanup EXIT
ph() { "$plughole" --db "$db" "$@"; }
wait_port() { # ADDR PORT
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: nothing listens on $1:$2" >&2; return 1
}

echo "== 1. ingest the demo feeds (data/demo/)"
ph ingest --allow-loopback --port 2525 "$src"/data/demo/*.{txt,rbldnsd,csv,json} 2>"$run/ingest.log"
ph ingest --allow-loopback "$src"/data/demo/proxies/open-proxies.txt 2>>"$run/ingest.log" | tail -n 1
echo "   (bad lines are reported with file:line, e.g.:)"
sed -n "/warning/p" "$run/ingest.log" | sed -n 1,3p | sed 's/^/   /'

echo
echo "== 2. the sink: one message with a valid token"
"$plughole" --db "$db" sink --listen 127.0.60.1:2560 --domain sink.demo >"$run/sink.out" 2>"$run/sink.log" &
pids+=($!)
wait_port 127.0.60.1 2560
token=$(ph token 127.20.1.1:2525 2>/dev/null)
python3 - "$token" <<'PY'
import smtplib, sys
token = sys.argv[1]
with smtplib.SMTP("127.0.60.1", 2560, local_hostname="relay.demo") as s:
    s.sendmail("relaytest@verifier.demo", [f"{token}@sink.demo"],
               f"Subject: Open relay test {token}\r\n\r\nA relayed test message.\r\n")
PY
echo "   recorded proof:"
ph proofs | sed 's/^/   /'
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

echo
echo "== 3. verify every candidate against plughole-lab (127.20.B.N plays behaviour B):"
echo "   relays on port 2525, proxies on 3128, 1080 and 23; the sink's web target on 127.0.60.1:2580"
"$lab" --port 2525 --port 3128 --port 1080 --port 23 --sink 127.0.60.1:2561 --sink-domain sink.demo --tarpit-delay 20 \
  --greylist-delay 2 --web-port 2580 >"$run/lab.out" 2>"$run/lab.log" &
pids+=($!)
wait_port 127.20.0.1 2525
ph verify --allow-loopback --sink 127.0.60.1:2561 --sink-domain sink.demo --helo verifier.demo \
  --target 127.0.60.1:2580 \
  --connect-timeout 2 --timeout 4 --retry-after 3 --retries 2 --proof-grace 2 --wait 5 \
  --per-net 64 2>"$run/verify.log"
echo
echo "   open relays, proven by a token that reached the sink:"
ph findings --verdict open-relay | cut -f1-7 | sed -n 1,12p | sed 's/^/   /'
echo "   open proxies: mail through the tunnel reached the sink, or the tunnel reached the web target:"
{ ph findings --verdict open-proxy-mail; ph findings --verdict open-proxy-web | sed 1d; } | cut -f1-7 | sed 's/^/   /'

echo
echo "== 4. attribute the findings to network owners (data/demo/registry/)"
ph attribute load $(find "$src/data/demo/registry" -type f ! -name README | sort) >"$run/attribute-load.log" 2>&1
ph attribute 2>"$run/attribute.log" | sed 's/^/   /'
echo "   owners, one letter each later:"
ph owners | sed -n 1,12p | sed 's/^/   /'
echo "   why would 127.20.1.1's owner get a letter? ('plughole whois'):"
ph whois 127.20.1.1 | sed -n 1,16p | sed 's/^/   /'
echo
echo "   everything is in $db; 'plughole --db $db findings --format json --transcript' shows the evidence"

echo
echo "== 5. a campaign: one letter per owner, a control group, sent through a local Postfix"
ph campaign create demo --control 0.3 --seed 2004 --domain sink.demo 2>"$run/campaign.log" | sed 's/^/   /'
echo "   the first two letters, as they will go (campaign preview):"
ph campaign preview demo 2>>"$run/campaign.log" | sed 's/^/   | /' 
# the lab is done for now (it answers on every loopback address of its ports)
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
pids=()
if [ "$(id -u)" -ne 0 ]; then
  echo "   (sending needs root here: the local Postfix runs with its own users; run 'sudo make demo')"
else
peers_init "$run"
start_postfix_maildir 127.72.9.1 2587 "$run/mail/Maildir" 2>"$run/postfix.log"
echo "   Postfix on 127.72.9.1:2587 delivers every letter into $run/mail/Maildir"
ph campaign send demo --smtp smtp://127.72.9.1:2587 --rate 600 --per-domain 120 | sed 's/^/   /'
want=$(ph campaign list | awk -F'\t' '$1 == "demo" { print $9 }')
for _ in $(seq 1 50); do [ "$(ls "$run/mail/Maildir/new" | wc -l)" -ge "$want" ] && break; sleep 0.1; done
echo "   delivered ($(ls "$run/mail/Maildir/new" | wc -l) letters; the control group got none):"
for f in "$run"/mail/Maildir/new/*; do
  printf '   %s\n      %s | %s\n' "$f" "$(grep -m1 '^To:' "$f")" "$(grep -m1 '^Subject:' "$f")"
done | sed -n 1,24p
echo "   letter states: 'plughole --db $db campaign show demo'; bounces come back to the sink"
echo "   (bounces+TICKET@sink.demo) or 'plughole bounces MAILDIR'"
fi

echo
echo "== 6. some owners fix their servers; recheck every host of the campaign"
# Seeded and deterministic, as a campaign hopes: an owner acts on the letter (or,
# in the control group, on its own) when a hash of its id and the seed falls under
# its group's share (treatment 60 %, control 20 %) and fixes every host; of the
# other owners' hosts, 10 % are fixed anyway. The lab has a fixed form for relays
# and HTTP and SOCKS proxies (not for the telnet gateways).
fix_seed=2004
acts="((o.id * 2654435761 + $fix_seed) % 4294967296) % 100 < (case o.grp when 'treatment' then 60 else 20 end)"
fixes="coalesce(h.protocol, '') not in ('wingate', 'router')
  and ($acts or ((h.candidate_id * 2654435761 + $fix_seed) % 4294967296) % 100 < 10)"
hosts="campaign_hosts h join campaign_owners o on o.id = h.campaign_owner_id join campaigns c on c.id = h.campaign_id
  where c.name = 'demo'"
sqlite3 "$db" "select h.address from $hosts and $fixes order by h.candidate_id" >"$run/fixed"
sqlite3 -separator ' ' "$db" "select o.grp, count(*), sum($fixes), count(distinct o.id),
  count(distinct case when $acts then o.id end) from $hosts group by o.grp order by o.grp" |
  while read -r grp total nfix owners acting; do
    echo "   the lab fixes $nfix of the $grp group's $total hosts ($acting of its $owners owners act on all theirs)"
  done
"$lab" --port 2525 --port 3128 --port 1080 --port 23 --sink 127.0.60.1:2561 --sink-domain sink.demo --tarpit-delay 20 \
  --greylist-delay 2 --web-port 2580 --fixed-file "$run/fixed" >"$run/lab-recheck.out" 2>"$run/lab-recheck.log" &
pids+=($!)
wait_port 127.20.0.1 2525
ph recheck demo --allow-loopback --sink 127.0.60.1:2561 --sink-domain sink.demo --helo verifier.demo \
  --target 127.0.60.1:2580 \
  --connect-timeout 2 --timeout 4 --retry-after 3 --retries 2 --proof-grace 2 --wait 5 \
  --per-net 64 2>"$run/recheck.log" | sed 's/^/   /'
echo "   each host's verdict in that round: 'plughole --db $db findings --round N'; a host's"
echo "   rounds: 'plughole --db $db findings --history ADDRESS'"

echo
echo "== 7. the report: what the letters caused"
ph report demo --html "$run/report.html"
ph report demo >"$run/report.txt"
{ sed -n 2p "$run/report.txt"; grep -m1 '^  hosts fixed:' "$run/report.txt" | sed 's/^ *hosts fixed:/  hosts fixed:/'; } |
  sed 's/^/   /'
echo "   the whole report: $run/report.html (also: 'plughole --db $db report demo' in the terminal,"
echo "   --json FILE, --csv FILE)"
