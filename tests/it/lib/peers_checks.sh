# shellcheck shell=bash
# The harness of the peers' own tests (peers_selftest.sh, peers_mta2.sh):
# counted ok/bad lines, a DNS trap, mail sent with swaks and awaited at a
# sink, and the closing checks. Source it after peers.sh:
#
#   export PEERS_DNS_ADDR=127.0.12.53
#   checks_session swaks                        # tmp, peers_init, the DNS trap
#   checks_sink 127.0.12.1 2525 "$tmp/mail"
#   expect_relay NAME SERVER RCPT; ok "..."; bad "..."
#   checks_isolation; checks_summary           # the last command: its status
checks_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKS_PASSED=0 CHECKS_FAILED=0

ok() { echo "ok: $*"; CHECKS_PASSED=$((CHECKS_PASSED + 1)); }
bad() { echo "FAIL: $*"; CHECKS_FAILED=$((CHECKS_FAILED + 1)); }

now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }

# checks_session TOOL...: stops the test when a client TOOL is missing; then
# tmp (a directory; at exit the peers stop and it goes), peers_init there,
# and before any peer starts a DNS server on $PEERS_DNS_ADDR that only logs
# (every peer's resolv.conf points there).
checks_session() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null ||
      { echo "FAIL: $tool is not installed (scripts/install-deps.sh --with-peers)"; exit 1; }
  done
  tmp=$(mktemp -d)
  trap 'peers_stop_all; rm -rf "$tmp"' EXIT
  peers_init "$tmp"
  CHECKS_DNS_LOG=$tmp/dns-queries.log
  peers_run dns-trap "$PEERS_PYTHON" "$checks_lib/dns_trap.py" --listen "$PEERS_DNS_ADDR" \
    --log "$CHECKS_DNS_LOG"
  wait_port "$PEERS_DNS_ADDR" 53
}

# checks_sink ADDR PORT DIR: the sink that expect_relay looks in.
checks_sink() {
  CHECKS_MAIL=$3
  start_smtp_sink "$1" "$2" "$CHECKS_MAIL"
}

# swaks_to SERVER RCPT TAG [ARGS...]: send one message whose subject is TAG.
swaks_to() {
  local server=$1 rcpt=$2 tag=$3
  shift 3
  peers_exec swaks --server "$server" --helo client.test --from tester@client.test --to "$rcpt" \
        --h-Subject "$tag" --body "$(basename "$0" .sh) $tag" --timeout 10 "$@" 2>&1
}

# arrived TAG SECONDS: wait until the sink holds a message with subject TAG.
arrived() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    grep -qs "^Subject: $1" "$CHECKS_MAIL"/*.eml && return 0
    sleep 0.05
  done
  return 1
}

# expect_relay NAME SERVER RCPT: accepted, and the message reaches the sink.
expect_relay() {
  local name=$1 server=$2 rcpt=$3 tag="$1-$RANDOM$RANDOM" out t0 t1
  t0=$(now)
  if ! out=$(swaks_to "$server" "$rcpt" "$tag"); then
    bad "$name: $server did not accept <$rcpt>: $(echo "$out" | grep -E '^<[*~-]* *[45][0-9][0-9]' | tail -n 2)"
    return
  fi
  t1=$(now)
  if arrived "$tag" 10; then
    ok "$name: <$rcpt> via $server: SMTP dialogue $(( (t1 - t0) / 1000000 )) ms, at the sink $(ms_since "$t1") ms later"
  else
    bad "$name: <$rcpt> accepted by $server but never reached the sink"
  fi
}

# checks_isolation: no peer asked DNS, and stopping them all leaves none of their processes.
checks_isolation() {
  echo "# isolation"
  if [ -s "$CHECKS_DNS_LOG" ]; then
    bad "peers asked DNS: $(sort "$CHECKS_DNS_LOG" | uniq -c | head -n 5 | tr '\n' ';')"
  else
    ok "no peer sent a DNS query"
  fi
  local survivors=() left=() pid
  for pid in "${PEERS_PIDS[@]}"; do
    # shellcheck disable=SC2207
    survivors+=("$pid" $(peers__descendants "$pid"))
  done
  peers_stop_all
  for pid in "${survivors[@]}"; do peers__alive "$pid" && left+=("$pid"); done
  if [ ${#left[@]} -eq 0 ]; then
    ok "peers_stop_all stopped all ${#survivors[@]} processes"
  else
    bad "processes left after peers_stop_all: ${left[*]}"
  fi
}

# checks_summary: the peers' logs when a check failed, the counts; fails when one did.
checks_summary() {
  [ "$CHECKS_FAILED" -eq 0 ] || peers_dump_logs
  echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
  [ "$CHECKS_FAILED" -eq 0 ]
}
