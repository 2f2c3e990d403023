#!/usr/bin/env bash
# verify --tests proxy against plughole-lab's proxy behaviours (every behaviour
# after 14; 127.20.B.N plays B): each verdict is the one the lab's --truth
# promises; an open proxy is proven by a token the sink received through the
# tunnel (mail) or a nonce the sink's target handed out (web), with both the
# entry and the exit address kept; a 200 without our nonce proves nothing;
# tunnels aim only at the sink and its targets; a restarted run has nothing
# left; a sink in another process (--external-sink) proves the same through
# the store; single protocols can be forced, SOCKS5 reaches an IPv6 sink.
# Addresses: lab hosts 127.20.B.{1,2}; sink 127.0.45.11 (SMTP 2551, targets
# 8051 and 4451), the external sink 127.0.45.12, the IPv6 sink [::1]:2553.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 40 "$tmp"/*.err >&2 || true; exit 1; }
q() { sqlite3 "$1" "$2"; }
SINK=127.0.45.11:2551 WEB=127.0.45.11:8051 WEB443=127.0.45.11:4451

# The lab's web-only host tunnels to port 4451 only: the second target.
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --web-port 4451 >"$tmp/lab.out" 2>"$tmp/lab.err" &
pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"

# Proxies are B 15..28 (29.. are SMTP hosts again: the Exim-like ones).
mapfile -t behaviours < <("$LAB" --list | awk -F'\t' '$1 ~ /^[0-9]+$/ && $1 > 14 && $1 < 29 { print $1 }')
[ "${#behaviours[@]}" -ge 14 ] || fail "the lab lists only ${#behaviours[@]} proxy behaviours"
targets=(); addrs=()
for b in "${behaviours[@]}"; do for n in 1 2; do targets+=("127.20.$b.$n:$port"); addrs+=("127.20.$b.$n"); done; done
"$LAB" --truth "${addrs[@]}" >"$tmp/truth"

verify() {
  "$PLUGHOLE" --db "$1" verify --tests proxy --allow-loopback --sink-domain sink.test --helo verifier.test \
    --connect-timeout 2 --timeout 3 --total-timeout 60 --retry-after 1 --retries 1 --proof-grace 1 --wait 2 \
    --per-net 8 "${@:2}"
}
db="$tmp/db"
verify "$db" --sink "$SINK" --target "$WEB" --target "$WEB443" "${targets[@]}" >"$tmp/verify.out" 2>"$tmp/verify.err" ||
  fail "verify failed"
cat "$tmp/verify.out"
"$PLUGHOLE" --db "$db" findings | sed 1d >"$tmp/findings" # the rows, without the header line
assert_eq "$(wc -l <"$tmp/findings")" "${#targets[@]}" "one finding per target"

# Every verdict as the lab's truth says; software where the host names it and talks.
declare -A protocol=([http-connect-open]=http-connect [http-connect-443]=http-connect [http-post]=http-post
  [http-get]=http-get [socks4-open]=socks4 [socks5-open]=socks5 [wingate]=wingate [router]=router)
while IFS=$'\t' read -r addr behaviour expected software; do
  row=$(awk -F'\t' -v a="$addr" '$1 == a' "$tmp/findings")
  assert_eq "$(cut -f3 <<<"$row")" "$expected" "$addr plays $behaviour"
  if [ "$software" != - ] && [ "$expected" != timeout ]; then
    assert_eq "$(cut -f7 <<<"$row")" "$software" "software of $addr ($behaviour)"
  fi
  if [ -n "${protocol[$behaviour]:-}" ]; then
    assert_eq "$(cut -f6 <<<"$row")" "${protocol[$behaviour]}" "protocol that proved $addr ($behaviour)"
  fi
done <"$tmp/truth"

# Proof: mail by a genuine token that came through the proxy, which is also the exit.
mail=$(q "$db" "select count(*) from findings where verdict = 'open-proxy-mail'")
[ "$mail" -ge 10 ] || fail "only $mail open-proxy-mail findings"
assert_eq "$(q "$db" "select count(*) from findings f join candidates c on c.id = f.candidate_id
  where f.verdict = 'open-proxy-mail' and f.variant = 'smtp-port' and f.token in (select token from proofs)
  and f.exit_address like c.address || ':%'")" "$mail" "mail proofs with the proxy as exit"
assert_eq "$(q "$db" "select count(*) from proofs where token not in (select token from probes)")" 0 \
  "every proof maps to a recorded test message"
# Web: the nonce the tunnel read was handed out by the target, to a request carrying our token.
web=$(q "$db" "select count(*) from findings where verdict = 'open-proxy-web'")
[ "$web" -ge 4 ] || fail "only $web open-proxy-web findings"
assert_eq "$(q "$db" "select count(*) from findings f join candidates c on c.id = f.candidate_id
  join target_hits h on h.token = f.token where f.verdict = 'open-proxy-web' and f.variant = 'tcp-target'
  and h.peer = f.exit_address and f.exit_address like c.address || ':%'")" "$web" "web proofs by target hits"
# The web-only CONNECT host was refused port 25 and the first target, and reached the second.
t=$(q "$db" "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.16.1'")
assert_contains "$t" "CONNECT $WEB HTTP/1.0"
assert_contains "$t" "CONNECT $WEB443 HTTP/1.0"
# A block page's 200 proves nothing, and says so.
t=$(q "$db" "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.25.1'")
assert_contains "$t" "the far end does not speak SMTP"
# Tunnels aim at the sink and its targets only.
if q "$db" "select sqlar_uncompress(transcript, transcript_size) from findings" | grep 'aiming at' | grep -v -e "aiming at $SINK " -e "aiming at $WEB " \
  -e "aiming at $WEB443 " | grep -q .; then fail "a tunnel aimed elsewhere"; fi
q "$db" "select max(coalesce(transcript_size, length(transcript))) from findings" | awk '{ exit !($1 > 100 && $1 <= 6144) }' || fail "transcript size"
assert_eq "$(q "$db" "select count(*) from sink_rejects")" 0 "forged tokens"

# A restarted run finds nothing pending.
verify "$db" --sink "$SINK" >"$tmp/verify2.out" 2>>"$tmp/verify.err"
assert_contains "$(cat "$tmp/verify2.out")" "verify: 0 targets"

# The sink in another process: proofs and target hits are looked up in the store.
db2="$tmp/db2" SINK2=127.0.45.12:2552 WEB2=127.0.45.12:4451
"$PLUGHOLE" --db "$db2" sink --listen "$SINK2" --domain sink.test --target "$WEB2" >"$tmp/sink.out" 2>"$tmp/sink.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '(target)' "$tmp/sink.err" && break; sleep 0.1; done
ext=(127.20.15.1 127.20.16.1 127.20.17.1 127.20.18.1 127.20.20.1 127.20.23.1 127.20.25.1)
verify "$db2" --external-sink --sink "$SINK2" --target "$WEB2" "${ext[@]/%/:$port}" >"$tmp/verify3.out" \
  2>>"$tmp/verify.err" || fail "verify with an external sink failed"
"$PLUGHOLE" --db "$db2" findings | sed 1d >"$tmp/findings2" # the rows, without the header line
for a in "${ext[@]}"; do
  assert_eq "$(awk -F'\t' -v a="$a" '$1 == a { print $3 }' "$tmp/findings2")" \
    "$(awk -F'\t' -v a="$a" '$1 == a { print $3 }' "$tmp/truth")" "$a with the sink elsewhere"
done

# Forced protocols: the name forms of SOCKS, and SOCKS5's IPv6 address type.
db3="$tmp/db3"
verify "$db3" --sink "$SINK" --protocols socks4a "127.20.19.1:$port" >/dev/null 2>>"$tmp/verify.err"
verify "$db3" --sink "$SINK" --protocols socks5h "127.20.20.1:$port" >/dev/null 2>>"$tmp/verify.err"
verify "$db3" --sink "[::1]:2553" --protocols socks5 "127.20.20.2:$port" >/dev/null 2>>"$tmp/verify.err"
"$PLUGHOLE" --db "$db3" findings | sed 1d >"$tmp/findings3" # the rows, without the header line
assert_eq "$(cut -f1,3,6 "$tmp/findings3" | sort | tr '\t\n' ' ;')" \
  "127.20.19.1 open-proxy-mail socks4a;127.20.20.1 open-proxy-mail socks5h;127.20.20.2 open-proxy-mail socks5;"
assert_contains "$(q "$db3" "select sqlar_uncompress(transcript, transcript_size) from findings")" "SOCKS5 CONNECT [::1]:2553"
echo "verify_proxy_lab: ok"
