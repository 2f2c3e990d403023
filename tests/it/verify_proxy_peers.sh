#!/usr/bin/env bash
# verify --tests proxy against REAL proxies, each on its own 127.0.11.x address
# with a private config (tests/it/lib/peers.sh): Squid open and closed,
# tinyproxy open, Dante open (SOCKS4 and SOCKS5) and with username auth,
# microsocks open and with user/pass. The open ones reach the verifier's own
# sink through their outgoing address 127.0.0.1, so the finding keeps both the
# entry address and that exit. Verdicts, protocols and software asserted
# exactly; two Squids of the test's own: an HTTPS proxy, and one that reaches
# the web but not port 25. Addresses: proxies 127.0.11.{11..20} (19: nothing
# listens); sink 127.0.45.21:2561 and its target 127.0.45.21:8061.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib/assert.sh"
. "$here/lib/peers.sh"
tmp=$(mktemp -d)
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
peers_init "$tmp"
SINK=127.0.45.21:2561 TARGET=127.0.45.21:8061

start_squid_open 127.0.11.11 3128
start_squid_closed 127.0.11.12 3128
start_tinyproxy_open 127.0.11.13 8888
start_dante_open 127.0.11.14 1080
start_dante_auth 127.0.11.15 1080
start_microsocks 127.0.11.16 1080
start_microsocks 127.0.11.17 1081 plughole secret

# Two Squids of our own (peers.sh has no such kind): an HTTPS proxy (TLS to the
# proxy itself), and one that tunnels only to the target's port and forwards
# no POST: it reaches the web but not port 25.
squid_custom() { # NAME ADDR PORT PORT_LINE ACCESS_LINES...
  local name=$1 addr=$2 port=$3 d="$PEERS_DIR/squid-$1"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$name.test" \
    -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
  chmod 644 "$d/key.pem"
  chown -R proxy:proxy "$d"
  { printf '%s\n' "${4//@DIR@/$d}" "pid_filename $d/squid.pid" "cache_log $d/cache.log" \
      "access_log stdio:$d/access.log" "cache_store_log none" "coredump_dir $d" "cache deny all" \
      "cache_mem 4 MB" "visible_hostname $name.test" "dns_nameservers $PEERS_DNS_ADDR" \
      "tcp_outgoing_address $PEERS_EXIT_ADDR" "pinger_enable off" "icp_port 0" "htcp_port 0" \
      "shutdown_lifetime 0 seconds" "acl lab dst 127.0.0.0/8"
    printf '%s\n' "${@:5}" "http_access deny all"; } >"$d/squid.conf"
  peers_run "squid-$name" squid -N -f "$d/squid.conf" -n "plughole${name//-/}"
  wait_port "$addr" "$port"
}
squid_custom tls 127.0.11.18 8443 "https_port 127.0.11.18:8443 tls-cert=@DIR@/cert.pem tls-key=@DIR@/key.pem" \
  "http_access allow lab"
squid_custom webonly 127.0.11.20 8080 "http_port 127.0.11.20:8080" "acl web port ${TARGET##*:}" "acl post method POST" \
  "http_access deny CONNECT !web" "http_access deny post" "http_access allow lab"

verify() {
  peers_exec "$PLUGHOLE" --db "$1" verify --tests proxy --allow-loopback --sink "$SINK" --target "$TARGET" \
    --sink-domain sink.test --helo verifier.test --connect-timeout 3 --timeout 10 --proof-grace 3 --wait 5 \
    --retry-after 1 "${@:2}"
}
db="$tmp/db"
verify "$db" 127.0.11.11:3128 127.0.11.12:3128 127.0.11.13:8888 127.0.11.14:1080 127.0.11.15:1080 \
  127.0.11.16:1080 127.0.11.17:1081 127.0.11.18:8443 127.0.11.19:3128 127.0.11.20:8080 >"$tmp/out" 2>"$tmp/err" ||
  { cat "$tmp/err" >&2; peers_dump_logs; exit 1; }
cat "$tmp/out"
"$PLUGHOLE" --db "$db" findings | sed 1d >"$tmp/findings" # the rows, without the header line
check() { # ADDRESS VERDICT PROTOCOL SOFTWARE [FINDINGS]
  local row; row=$(awk -F'\t' -v a="$1" '$1 == a' "${5:-$tmp/findings}")
  assert_eq "$(cut -f3 <<<"$row")" "$2" "verdict of $1"
  assert_eq "$(cut -f6 <<<"$row")" "$3" "protocol of $1"
  if [[ $4 == *"|"* ]]; then # alternatives: what the run happened to see
    [[ "$(cut -f7 <<<"$row")" =~ ^($4)$ ]] || { echo "FAIL: software of $1: '$(cut -f7 <<<"$row")', not one of $4" >&2; exit 1; }
  else
    assert_eq "$(cut -f7 <<<"$row")" "$4" "software of $1"
  fi
}
# Squid says nothing about itself in a 200; an error page of another step (a 504 when the target
# answers late on a slow run: tempfail, retried) names it, and then the finding does too
check 127.0.11.11 open-proxy-mail http-connect "|Squid"
check 127.0.11.12 closed http-connect Squid
check 127.0.11.13 open-proxy-mail http-connect tinyproxy
check 127.0.11.14 open-proxy-mail socks4 ""
check 127.0.11.15 closed socks4 ""
check 127.0.11.16 open-proxy-mail socks5 ""
check 127.0.11.17 closed socks5 ""
check 127.0.11.18 open-proxy-mail https-connect ""
check 127.0.11.19 unreachable http-connect ""
check 127.0.11.20 open-proxy-web http-connect Squid
assert_eq "$(sqlite3 "$db" "select tls from findings f join candidates c on c.id = f.candidate_id
  where c.address = '127.0.11.18'")" 1 "the HTTPS proxy spoke TLS"
# Proven by tokens that came out of the proxies' exit address, not their entry.
q() { sqlite3 "$db" "$1"; }
assert_eq "$(q "select count(*) from findings f join candidates c on c.id = f.candidate_id
  where f.verdict = 'open-proxy-mail' and f.token in (select token from proofs)
  and f.exit_address like '127.0.0.1:%' and c.address like '127.0.11.%'")" 5 "exit addresses"
# The closed ones were refused on every protocol and aim their port offers.
t=$(q "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.0.11.12'")
assert_eq "$(grep -c '^<< HTTP/1.1 403 Forbidden' <<<"$t")" 5 "Squid closed: CONNECT x2, POST x2, GET"
t=$(q "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.0.11.15'")
assert_contains "$t" "SOCKS4 reply 91: rejected or failed"
assert_contains "$t" "SOCKS5 method 0xff: none acceptable (authentication required)"
t=$(q "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.0.11.17'")
assert_contains "$t" "SOCKS5 method 0xff: none acceptable (authentication required)"
assert_eq "$(q "select count(*) from sink_rejects")" 0 "forged tokens"

# Each protocol on its own: Dante over SOCKS5 too, microsocks by name (SOCKS5 domain type),
# the HTTP forwards of the open Squid: POST carries an SMTP conversation to the sink,
# GET reads the target's page; the same over TLS.
db2="$tmp/db2"
verify "$db2" --protocols socks5 127.0.11.14:1080 >>"$tmp/out" 2>>"$tmp/err"
verify "$db2" --protocols socks5h 127.0.11.16:1080 >>"$tmp/out" 2>>"$tmp/err"
verify "$db2" --protocols http-post 127.0.11.11:3128 >>"$tmp/out" 2>>"$tmp/err"
verify "$db2" --protocols http-get 127.0.11.13:8888 >>"$tmp/out" 2>>"$tmp/err"
verify "$db2" --protocols https-post 127.0.11.18:8443 >>"$tmp/out" 2>>"$tmp/err"
"$PLUGHOLE" --db "$db2" findings | sed 1d >"$tmp/findings2" # the rows, without the header line
check 127.0.11.14 open-proxy-mail socks5 "" "$tmp/findings2"
check 127.0.11.16 open-proxy-mail socks5h "" "$tmp/findings2"
check 127.0.11.11 open-proxy-mail http-post "" "$tmp/findings2"
check 127.0.11.13 open-proxy-web http-get tinyproxy "$tmp/findings2"
check 127.0.11.18 open-proxy-mail https-post "" "$tmp/findings2"
assert_eq "$(sqlite3 "$db2" "select count(*) from target_hits h join findings f on f.token = h.token
  where f.verdict = 'open-proxy-web' and h.peer like '127.0.0.1:%'")" 1 "the GET reached the target"
echo "verify_proxy_peers: ok"
