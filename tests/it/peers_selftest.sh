#!/usr/bin/env bash
# Integration test of the real-peer harness (tests/it/lib/peers.sh) itself:
# every MTA and proxy it can start must behave as the relay and proxy tests
# will assume. Open MTAs must deliver to a sink, closed ones must answer 5xx
# to a foreign recipient; open proxies must fetch a page and tunnel to an SMTP
# port, closed and auth-requiring ones must refuse. No peer, and no client
# here, may ask DNS.
# Addresses: MTAs 127.0.10.x, proxies 127.0.11.x, sinks and targets 127.0.12.x.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers_checks.sh
. "$here/lib/peers_checks.sh"

export PEERS_DNS_ADDR=127.0.12.53
checks_session swaks curl

sink=127.0.12.1:2525
checks_sink 127.0.12.1 2525 "$tmp/mail"
nonce=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/www"
echo "page $nonce" >"$tmp/www/index.html"
start_http_server 127.0.12.2 8080 "$tmp/www"

# expect_refused NAME SERVER RCPT: RCPT must get a 5xx.
expect_refused() {
  local name=$1 server=$2 rcpt=$3 out reply
  out=$(swaks_to "$server" "$rcpt" "$name" --quit-after RCPT) || true
  reply=$(echo "$out" | grep -E '^<\*\* +[0-9]{3}' | tail -n 1)
  if [[ $reply =~ ^\<\*\*\ +5[0-9][0-9] ]]; then
    ok "$name: $server refused <$rcpt>: ${reply#<\*\* }"
  else
    bad "$name: $server did not refuse <$rcpt> with 5xx: $(echo "$out" | tail -n 3)"
  fi
}

echo "# MTAs"
t0=$(now)
start_postfix_open 127.0.10.1 25 "$sink"
postfix_start_ms=$(ms_since "$t0")
echo "postfix open relay: start to 220 banner in $postfix_start_ms ms"
expect_relay postfix-open 127.0.10.1:25 'someone@[127.0.12.1]'
expect_relay postfix-open-percent-hack 127.0.10.1:25 'someone%[127.0.12.1]@[127.0.10.1]'
expect_relay postfix-open-source-route 127.0.10.1:25 '@[127.0.10.1]:someone@[127.0.12.1]'

t0=$(now)
start_postfix_closed 127.0.10.2 25
echo "postfix closed: start to 220 banner in $(ms_since "$t0") ms"
expect_refused postfix-closed 127.0.10.2:25 'someone@[127.0.12.1]'
expect_refused postfix-closed-percent-hack 127.0.10.2:25 'someone%[127.0.12.1]@[127.0.10.2]'

t0=$(now)
start_opensmtpd_open 127.0.10.3 25 "$sink"
echo "opensmtpd open relay: start to 220 banner in $(ms_since "$t0") ms"
expect_relay opensmtpd-open 127.0.10.3:25 'someone@[127.0.12.1]'

t0=$(now)
start_opensmtpd_closed 127.0.10.4 25
echo "opensmtpd closed: start to 220 banner in $(ms_since "$t0") ms"
expect_refused opensmtpd-closed 127.0.10.4:25 'someone@[127.0.12.1]'

if peers_flush_queues; then
  ok "peers_flush_queues asked every MTA to retry now"
else
  bad "peers_flush_queues failed"
fi

echo "# proxies"
page=http://127.0.12.2:8080/index.html

# fetch NAME EXPECT CURL_ARGS...: EXPECT is "page" or "refused".
fetch() {
  local name=$1 expect=$2 out status
  shift 2
  status=0
  out=$(peers_exec curl -fsS --max-time 10 --noproxy '' "$@" "$page" 2>&1) || status=$?
  if [ "$expect" = page ]; then
    if [ $status = 0 ] && [ "$out" = "page $nonce" ]; then
      ok "$name: fetched the page"
    else
      bad "$name: no page (curl status $status): $out"
    fi
  elif [ $status != 0 ] || [ "$out" != "page $nonce" ]; then
    ok "$name: refused (curl status $status)"
  else
    bad "$name: fetched the page but should have refused"
  fi
}

# tunnel NAME EXPECT PROTO PROXY [ARGS...]: EXPECT "open" (SMTP banner
# through the tunnel) or "refused" (the proxy said no).
tunnel() {
  local name=$1 expect=$2 proto=$3 proxy=$4 out status
  shift 4
  status=0
  out=$(peers_exec "$PEERS_PYTHON" "$here/lib/tunnel_probe.py" --proto "$proto" --proxy "$proxy" \
          --target "$sink" "$@" 2>&1) || status=$?
  if [ "$expect" = open ] && [ $status = 0 ] && [[ $out == 220* ]]; then
    ok "$name: $proto tunnel to the sink's SMTP port: $out"
  elif [ "$expect" = refused ] && [ $status = 2 ]; then
    ok "$name: $proto tunnel $out"
  else
    bad "$name: $proto tunnel expected $expect, got status $status: $out"
  fi
}

# acl_refuses NAME PROXY: CONNECT to 0.0.0.0 (never leaves the host, not in
# 127.0.0.0/8) must be refused by the destination ACL itself (403), not by a
# failed connection.
acl_refuses() {
  local out status=0
  out=$(peers_exec "$PEERS_PYTHON" "$here/lib/tunnel_probe.py" --proto http --proxy "$2" \
          --target 0.0.0.0:2525 2>&1) || status=$?
  if [ $status = 2 ] && [[ $out == "refused: HTTP/1."?" 403"* ]]; then
    ok "$1: destination ACL refuses 0.0.0.0: $out"
  else
    bad "$1: CONNECT 0.0.0.0 not refused by the ACL (status $status): $out"
  fi
}

start_squid_open 127.0.11.1 3128
fetch squid-open page -x http://127.0.11.1:3128
fetch squid-open-connect page -p -x http://127.0.11.1:3128
tunnel squid-open open http 127.0.11.1:3128
acl_refuses squid-open 127.0.11.1:3128
start_squid_closed 127.0.11.2 3128
fetch squid-closed refused -x http://127.0.11.2:3128
tunnel squid-closed refused http 127.0.11.2:3128

start_tinyproxy_open 127.0.11.3 8888
fetch tinyproxy-open page -x http://127.0.11.3:8888
tunnel tinyproxy-open open http 127.0.11.3:8888
acl_refuses tinyproxy-open 127.0.11.3:8888

start_dante_open 127.0.11.4 1080
fetch dante-open-socks5 page --socks5 127.0.11.4:1080
fetch dante-open-socks4 page --socks4 127.0.11.4:1080
tunnel dante-open open socks5 127.0.11.4:1080
tunnel dante-open open socks4 127.0.11.4:1080
start_dante_auth 127.0.11.5 1080
fetch dante-auth-socks5 refused --socks5 127.0.11.5:1080
tunnel dante-auth refused socks5 127.0.11.5:1080
tunnel dante-auth-wrong-password refused socks5 127.0.11.5:1080 --user nobody-here --password wrong
tunnel dante-auth-socks4 refused socks4 127.0.11.5:1080

start_microsocks 127.0.11.6 1080
fetch microsocks page --socks5 127.0.11.6:1080
tunnel microsocks open socks5 127.0.11.6:1080
start_microsocks 127.0.11.7 1080 tester s3cret
fetch microsocks-auth-none refused --socks5 127.0.11.7:1080
tunnel microsocks-auth-none refused socks5 127.0.11.7:1080
fetch microsocks-auth-good page -x socks5://tester:s3cret@127.0.11.7:1080
tunnel microsocks-auth-good open socks5 127.0.11.7:1080 --user tester --password s3cret

checks_isolation
echo "postfix start (spawn to 220 banner): $postfix_start_ms ms"
checks_summary
