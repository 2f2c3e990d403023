# shellcheck shell=bash
# SC2016: sh -c scripts are single-quoted on purpose; SC2015: "A && B || fail"
# is meant; SC2034: PEERS_LAST_* are for the tests that source this file.
# shellcheck disable=SC2016,SC2015,SC2034
# peers.sh: start REAL mail servers and proxies as peers for integration tests.
#
#   . "$(dirname "$0")/lib/peers.sh"
#   tmp=$(mktemp -d); trap 'peers_stop_all; rm -rf "$tmp"' EXIT
#   peers_init "$tmp"
#   start_smtp_sink 127.0.12.1 2525 "$tmp/mail"        # or plughole's own sink
#   start_postfix_open 127.0.10.1 25 127.0.12.1:2525
#
# Every function prints nothing on success. On failure it prints the reason and
# the tail of the server's logs to stderr and returns 1 (so `set -e` stops the
# test). Call them directly, never in $(...) or a pipeline: they record PIDs in
# this shell. Each server gets a private directory $PEERS_DIR/<kind>-<addr>-<port>
# (configs, logs, queues); after a start, PEERS_LAST_DIR and PEERS_LAST_PID name
# it. Addresses must be 127.x.y.z literals; relays and proxies only ever reach
# 127.0.0.0/8. Every server runs in its own mount namespace whose
# /etc/resolv.conf points at $PEERS_DNS_ADDR (default 127.0.10.253, where
# nothing listens), so no peer can query the system's resolver.
#
# peers_init DIR
#     Start a session: servers live under DIR/peers. Makes DIR traversable
#     (0711) for the servers' unprivileged users. Checks that mount namespaces
#     work (unshare, root). Env: PEERS_DNS_ADDR, PEERS_EXIT_ADDR (source address
#     of proxies' outgoing connections, default 127.0.0.1, so a proxy's exit
#     address differs from its entry address), PEERS_TIMEOUT (start-up wait,
#     default 15 s), PLUGHOLE_PEERS_CACHE (unpacked OpenSMTPD and Exim, see
#     opensmtpd_setup.sh and exim_setup.sh), PEERS_GREYLIST_DELAY (postgrey's
#     --delay, default 3 s).
# peers_exec CMD [ARG...]
#     Run a client (swaks, curl, plughole) in the foreground under the same DNS
#     isolation; returns its status.
# peers_run NAME CMD [ARG...]
#     Start any command as a tracked peer in the same isolation; its output goes
#     to $PEERS_DIR/NAME/stdout.log. Pair it with wait_port.
# wait_port ADDR PORT [TIMEOUT]
#     Wait until something accepts TCP connections on ADDR:PORT (default 15 s).
# start_smtp_sink ADDR PORT DIR
#     The Python stand-in sink (smtp_sink.py): every message lands in DIR/*.eml.
# start_http_server ADDR PORT DIR
#     A static HTTP server (http_server.py) serving DIR: pages for proxies to fetch.
# start_postfix_open ADDR PORT RELAY_ADDR:RELAY_PORT
#     Postfix relaying for anyone (mynetworks = 0.0.0.0/0); every message it
#     does not keep goes to relayhost [RELAY_ADDR]:RELAY_PORT within a second.
#     Percent hack, bang path, source routes and quoted local parts are
#     accepted as stock Postfix does for trusted clients.
# start_postfix_closed ADDR PORT [RELAY_ADDR:RELAY_PORT]
#     Postfix with the default relay restrictions (permit_mynetworks,
#     reject_unauth_destination) and mynetworks = ADDR/32, so clients from
#     127.0.0.1 are strangers: a foreign RCPT gets "554 5.7.1 Relay access denied".
# start_opensmtpd_open ADDR PORT RELAY_ADDR:RELAY_PORT
#     OpenSMTPD with "match from any for any action relay", relaying to the
#     given host. Start the sink first: after a refused connection OpenSMTPD
#     disables the route for 15 s, then defers the mail for about 5 minutes.
# start_opensmtpd_closed ADDR PORT [RELAY_ADDR:RELAY_PORT]
#     OpenSMTPD that relays only for ADDR itself: "550 Invalid recipient".
# start_postfix_greylist ADDR PORT RELAY_ADDR:RELAY_PORT POLICY_ADDR POLICY_PORT
#     start_postfix_open behind greylisting: smtpd_recipient_restrictions =
#     check_policy_service inet:POLICY_ADDR:POLICY_PORT, permit. With
#     start_postgrey there, the first attempt of a (client /24, sender,
#     recipient) triplet gets "450 4.2.0 <rcpt>: Recipient address rejected:
#     Greylisted, ..."; the same triplet is accepted once PEERS_GREYLIST_DELAY
#     has passed since its first attempt; every new recipient starts again.
# start_postfix_greylist_closed ADDR PORT POLICY_ADDR POLICY_PORT
#     start_postfix_closed with the same policy service: the relay check
#     comes first, so a foreign RCPT gets 554 at once, greylisted or not.
# start_postfix_maildir ADDR PORT MAILDIR [ACCESS_FILE [TRANSPORT_FILE]]
#     Postfix as a smarthost that delivers every message it accepts, for any
#     domain, into the one Maildir MAILDIR (virtual delivery, owned by nobody:
#     MAILDIR/new/*): a stand-in for the Internet, nothing leaves it. ACCESS_FILE,
#     when given, is a texthash check_recipient_access table ("rejected.example
#     550 5.1.2 no such domain"), e.g. to refuse one domain with a 5xx or a 4xx.
#     TRANSPORT_FILE, a texthash transport_maps table, routes some domains
#     elsewhere ("bouncing.example error:5.1.1 mailbox unavailable" makes
#     Postfix accept, then return a real DSN to the envelope sender;
#     "campaign.test smtp:[127.72.3.1]:2525" delivers that domain to a sink).
#     Messages sit in Postfix's queue for at most a second or so before delivery.
# start_postfix_submission ADDR PORT MAILDIR CERT KEY USER PASSWORD [SMTPS_PORT]
#     The Maildir smarthost above as a submission server: ADDR:PORT demands
#     STARTTLS (smtpd_tls_security_level = encrypt, certificate CERT, key KEY)
#     and SASL AUTH (Cyrus, auxprop sasldb in the peer's directory with the one
#     user USER@submission.test, password PASSWORD; PLAIN and LOGIN, only
#     after STARTTLS); only an authenticated client may send (others: 554).
#     SMTPS_PORT: the same on ADDR:SMTPS_PORT with implicit TLS (smtps).
#     Debian's postgrey on ADDR:PORT (--inet), database in its peer directory,
#     --delay=$PEERS_GREYLIST_DELAY, other settings as shipped (--max-age 35
#     days, auto-whitelist of a client after 5 passed triplets, Debian's
#     whitelist files, which name no loopback client). Start it before the
#     Postfix that asks it: without it Postfix answers "451 4.3.5".
# start_exim_open ADDR PORT RELAY_ADDR:RELAY_PORT
#     Exim 4 (Debian's exim4-daemon-light, unpacked: exim_setup.sh) with
#     relay_from_hosts = 0.0.0.0/0, everything not local sent by manualroute to
#     the literal RELAY_ADDR:RELAY_PORT (no DNS, no ident, no PTR, IPv4 only).
#     Otherwise Exim's stock ACL and limits: "Restricted characters" (550) for
#     % ! / in foreign local parts, source routes stripped (accepted), and
#     smtp_max_synprot_errors = 3, so the 4th syntax error of a session gets
#     "501-...", "501 Too many syntax or protocol errors" and the connection
#     is closed. Counted in Exim 4.96 (tests/it/peers_mta2.sh): an address
#     it cannot parse in MAIL or RCPT (a domain literal, as
#     allow_domain_literals is off; no local part; a malformed domain) and a
#     command out of sequence (503, except a RCPT right after a refused MAIL).
#     Not counted: an unqualified address (MAIL <x>, RCPT <"a@b"> or <b!a>,
#     501 all the same) and ACL refusals (550). Unknown commands have their
#     own limit (smtp_max_unknown_commands, also 3).
# start_exim_closed ADDR PORT
#     The same Exim relaying only for ADDR itself: a foreign RCPT gets
#     "550 relay not permitted"; local domains (@, exim-closed.test) accepted
#     and discarded.
# start_squid_open ADDR PORT
#     Squid forwarding GET/POST and CONNECT to any port, only to 127.0.0.0/8.
# start_squid_closed ADDR PORT
#     Squid denying every client but ADDR itself: 403 to GET and CONNECT.
# start_tinyproxy_open ADDR PORT
#     tinyproxy, CONNECT to any port, destinations filtered to 127.x literals.
# start_dante_open ADDR PORT
#     danted, SOCKS4 and SOCKS5 without authentication, to 127.0.0.0/8 only.
# start_dante_auth ADDR PORT
#     danted demanding SOCKS5 username/password (system accounts): SOCKS4 and
#     unauthenticated SOCKS5 are refused.
# start_microsocks ADDR PORT [USER PASS]
#     microsocks (SOCKS5), with USER/PASS required when given. microsocks has
#     no destination ACL: its fence is binding outgoing connections to
#     $PEERS_EXIT_ADDR, a loopback address, from which the kernel routes
#     nothing off the host (route_localnet = 0; checked before the start).
# peers_flush_queues
#     Make every MTA of this session retry its deferred mail now (Postfix
#     retries within 2 s by itself, Exim runs its queue every 2 s; OpenSMTPD
#     waits minutes, but mail still inside its 15 s route hold-down is not
#     deferred yet and stays there).
# peers_dump_logs
#     Print every peer's logs to stderr (for a failing test's diagnosis).
# peers_stop_all
#     TERM every recorded PID and the processes they started, KILL what is
#     left after 5 s, reap them. Idempotent; use it in the EXIT trap.

PEERS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS_DIR=
PEERS_PIDS=()
PEERS_LAST_DIR=
PEERS_LAST_PID=
PEERS_PYTHON=${PEERS_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

peers__say() { printf 'peers: %s\n' "$*" >&2; }

# peers__fail DIR MESSAGE: report a failed start with the server's logs.
peers__fail() {
  local dir=$1 f; shift
  peers__say "$*"
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    for f in "$dir"/*.log "$dir"/maillog; do
      [ -s "$f" ] || continue
      printf -- '---- %s (last 40 lines)\n' "$f" >&2
      tail -n 40 "$f" >&2
    done
  fi
  return 1
}

peers__need_init() {
  [ -n "$PEERS_DIR" ] || { peers__say "peers_init was not called"; return 1; }
}

peers__is_loopback() {
  [[ $1 =~ ^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] &&
    (( BASH_REMATCH[1] < 256 && BASH_REMATCH[2] < 256 && BASH_REMATCH[3] < 256 ))
}

peers__check_addr() {
  peers__is_loopback "$1" || { peers__say "$1 is not a 127.x.y.z address"; return 1; }
  [[ $2 =~ ^[0-9]{1,5}$ ]] && (( $2 > 0 && $2 < 65536 )) ||
    { peers__say "bad port '$2'"; return 1; }
}

# peers__check_hostport ADDR:PORT
peers__check_hostport() {
  [[ $1 == *:* ]] || { peers__say "'$1' is not ADDR:PORT"; return 1; }
  peers__check_addr "${1%:*}" "${1##*:}"
}

# peers__alive PID: running and not a zombie (orphans may stay unreaped here).
peers__alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# peers__descendants PID: every live process below PID.
peers__descendants() {
  local -A kids=()
  local f stat pid ppid queue=("$1") out=()
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    pid=${stat%% *}
    stat=${stat##*) }
    ppid=${stat#* }
    ppid=${ppid%% *}
    kids[$ppid]+=" $pid"
  done
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    for f in ${kids[$pid]:-}; do
      out+=("$f")
      queue+=("$f")
    done
  done
  echo "${out[@]}"
}

peers_init() {
  local dir=${1:?usage: peers_init DIR}
  [ -d "$dir" ] || { peers__say "peers_init: no directory $dir"; return 1; }
  PEERS_DIR=$(cd "$dir" && pwd)/peers
  PEERS_DNS_ADDR=${PEERS_DNS_ADDR:-127.0.10.253}
  PEERS_EXIT_ADDR=${PEERS_EXIT_ADDR:-127.0.0.1}
  PEERS_TIMEOUT=${PEERS_TIMEOUT:-15}
  PEERS_GREYLIST_DELAY=${PEERS_GREYLIST_DELAY:-3}
  [[ $PEERS_GREYLIST_DELAY =~ ^[0-9]+$ ]] && (( PEERS_GREYLIST_DELAY > 0 )) ||
    { peers__say "PEERS_GREYLIST_DELAY must be a positive number of seconds"; return 1; }
  peers__is_loopback "$PEERS_DNS_ADDR" || { peers__say "PEERS_DNS_ADDR must be loopback"; return 1; }
  peers__is_loopback "$PEERS_EXIT_ADDR" || { peers__say "PEERS_EXIT_ADDR must be loopback"; return 1; }
  [ "$(id -u)" -eq 0 ] || { peers__say "real peers need root (users, mount namespaces)"; return 1; }
  # With job control a background job leads its process group, so setsid
  # would fork and the recorded PID would not be the server's.
  [[ $- != *m* ]] || { peers__say "peers.sh needs a shell without job control (set +m)"; return 1; }
  chmod 711 "$dir"
  mkdir -p "$PEERS_DIR"
  chmod 711 "$PEERS_DIR"
  # OpenSMTPD's libasr honours "lookup file" (hosts file only); glibc ignores it.
  printf 'nameserver %s\noptions timeout:1 attempts:1\nlookup file\n' \
    "$PEERS_DNS_ADDR" >"$PEERS_DIR/resolv.conf"
  local err
  err=$(unshare --mount --propagation private -- \
          mount --bind "$PEERS_DIR/resolv.conf" /etc/resolv.conf 2>&1) ||
    { peers__say "mount namespaces do not work here (unshare): $err"; return 1; }
}

# peers__spawn DIR [SRC DST]... -- CMD [ARG...]
# Runs CMD in a private mount namespace with our resolv.conf and the extra
# bind mounts, in its own session (Postfix's master stops its children by
# signalling its process group), in the background; records the PID (the same
# process all along: unshare, sh and setsid exec into CMD).
peers__spawn() {
  local dir=$1
  shift
  local binds=("$PEERS_DIR/resolv.conf" /etc/resolv.conf)
  while [ "$1" != -- ]; do
    binds+=("$1" "$2")
    shift 2
  done
  shift
  unshare --mount --propagation private -- /bin/sh -c '
    while [ "$1" != -- ]; do
      mount --bind "$1" "$2" || { echo "peers: cannot bind $1 on $2" >&2; exit 97; }
      shift 2
    done
    shift
    exec setsid "$@"' peers-ns "${binds[@]}" -- "$@" >>"$dir/stdout.log" 2>&1 </dev/null &
  PEERS_LAST_PID=$!
  PEERS_LAST_DIR=$dir
  PEERS_PIDS+=("$!")
}

# peers__dir KIND ADDR PORT: create and print the private directory, once the
# address is known to be free (a stale server there would pass for ours).
peers__dir() {
  local d="$PEERS_DIR/$1-$2-$3"
  [ ! -e "$d" ] || { peers__say "$1 on $2:$3 was already started in this session"; return 1; }
  ! peers__connect "$2" "$3" tcp || { peers__say "$1: something already listens on $2:$3"; return 1; }
  mkdir -p "$d"
  chmod 711 "$d"
  echo "$d"
}

# peers__deadline SECONDS: the microsecond clock value SECONDS from now.
peers__deadline() { echo $(( ${EPOCHREALTIME/./} + $1 * 1000000 )); }
peers__before() { (( ${EPOCHREALTIME/./} < $1 )); }

# peers__connect ADDR PORT MODE: one readiness probe; MODE tcp or smtp (220 banner).
peers__connect() {
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    [ "$3" = tcp ] && exit 0
    IFS= read -r -t 5 line <&3 || exit 1
    printf 'QUIT\r\n' >&3
    [[ $line == 220* ]]
  ) 2>/dev/null
}

# peers__await NAME DIR PID ADDR PORT MODE: wait for readiness or the server's death.
peers__await() {
  local name=$1 dir=$2 pid=$3 addr=$4 port=$5 mode=$6 status deadline
  deadline=$(peers__deadline "$PEERS_TIMEOUT")
  while peers__before "$deadline"; do
    if ! peers__alive "$pid"; then
      wait "$pid" 2>/dev/null && status=0 || status=$?
      peers__fail "$dir" "$name exited during start-up (status $status)"
      return 1
    fi
    peers__connect "$addr" "$port" "$mode" && return 0
    sleep 0.05
  done
  peers__fail "$dir" "$name: no $( [ "$mode" = smtp ] && echo "220 banner" || echo listener) on $addr:$port after ${PEERS_TIMEOUT}s"
}

wait_port() {
  local addr=${1:?usage: wait_port ADDR PORT [TIMEOUT]} port=${2:?} timeout=${3:-${PEERS_TIMEOUT:-15}} deadline
  deadline=$(peers__deadline "$timeout")
  while peers__before "$deadline"; do
    peers__connect "$addr" "$port" tcp && return 0
    sleep 0.05
  done
  peers__say "nothing accepts connections on $addr:$port after ${timeout}s"
  return 1
}

peers_exec() {
  peers__need_init || return 1
  unshare --mount --propagation private -- /bin/sh -c '
    mount --bind "$1" /etc/resolv.conf || exit 97
    shift
    exec "$@"' peers-exec "$PEERS_DIR/resolv.conf" "$@"
}

peers_run() {
  peers__need_init || return 1
  local name=${1:?usage: peers_run NAME CMD [ARG...]} d
  shift
  d="$PEERS_DIR/$name"
  mkdir -p "$d"
  peers__spawn "$d" -- "$@"
}

start_smtp_sink() {
  peers__need_init && peers__check_addr "$1" "$2" || return 1
  local d
  d=$(peers__dir smtp-sink "$1" "$2") || return 1
  mkdir -p "${3:?usage: start_smtp_sink ADDR PORT DIR}"
  peers__spawn "$d" -- "$PEERS_PYTHON" "$PEERS_LIB_DIR/smtp_sink.py" \
    --listen "$1:$2" --dir "$3"
  peers__await "smtp sink" "$d" "$PEERS_LAST_PID" "$1" "$2" smtp
}

start_http_server() {
  peers__need_init && peers__check_addr "$1" "$2" || return 1
  local d
  d=$(peers__dir http "$1" "$2") || return 1
  [ -d "${3:?usage: start_http_server ADDR PORT DIR}" ] ||
    { peers__say "start_http_server: no directory $3"; return 1; }
  peers__spawn "$d" -- "$PEERS_PYTHON" "$PEERS_LIB_DIR/http_server.py" --listen "$1:$2" --dir "$3"
  peers__await "http server" "$d" "$PEERS_LAST_PID" "$1" "$2" tcp
}

# ---------------------------------------------------------------- Postfix

# peers__postfix KIND ADDR PORT [RELAY [POLICY]]: KIND open or closed, or
# greylist / greylist-closed (the same with the policy service POLICY,
# ADDR:PORT, asked about every recipient the relay restrictions let through).
peers__postfix() {
  local kind=$1 addr=$2 port=$3 relay=${4:-} policy=${5:-} d q daemon_dir
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  [ -z "$relay" ] || peers__check_hostport "$relay" || return 1
  [ -z "$policy" ] || peers__check_hostport "$policy" || return 1
  [ -x /usr/sbin/postconf ] && getent passwd postfix >/dev/null ||
    { peers__say "Postfix is not installed (scripts/install-deps.sh --with-peers)"; return 1; }
  d=$(peers__dir "postfix-$kind" "$addr" "$port") || return 1
  q=$d/spool
  # The queue layout "postfix check" would create, without its 0.7 s.
  mkdir -p "$q"/{active,bounce,corrupt,defer,deferred,flush,hold,incoming,private,saved,trace} \
           "$q/maildrop" "$q/public" "$q/pid" "$d/data"
  chown postfix:root "$q"/{active,bounce,corrupt,defer,deferred,flush,hold,incoming,private,saved,trace}
  chmod 700 "$q"/{active,bounce,corrupt,defer,deferred,flush,hold,incoming,private,saved,trace}
  chown postfix:postdrop "$q/maildrop" "$q/public"
  chmod 1730 "$q/maildrop"
  chmod 2710 "$q/public"
  chown postfix "$d/data"
  chmod 755 "$q"

  {
    cat <<EOF
# Postfix test peer ($kind) on $addr:$port, written by tests/it/lib/peers.sh
compatibility_level = 3.6
queue_directory = $q
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-$kind.test
mydestination = \$myhostname, localhost
# lo carries 127.0.0.1/8 as one address: listen via master.cf, and name the
# address here so that [$addr] counts as this host (percent hack, IP literals).
inet_protocols = ipv4
inet_interfaces = loopback-only
proxy_interfaces = $addr
# Never ask DNS: no PTR for clients, relayhost is an address literal.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
# Local mail is not kept; no aliases database to build.
alias_maps =
alias_database =
local_transport = discard:test peers keep no local mail
biff = no
# Deliver at once and retry within seconds, not minutes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 10m
bounce_queue_lifetime = 10m
smtp_connect_timeout = 5s
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
    if [ "$kind" = open ] || [ "$kind" = greylist ]; then
      echo "# The classic open relay: every client is trusted."
      echo "mynetworks = 0.0.0.0/0"
    else
      echo "mynetworks = $addr/32"
    fi
    if [ -n "$policy" ]; then
      # As postgrey's documentation sets it up. postgrey answers
      # DEFER_IF_PERMIT: 450 only where the recipient would be accepted.
      echo "smtpd_recipient_restrictions = check_policy_service inet:$policy, permit"
    fi
    if [ "$kind" = maildir ]; then
      # Every domain is ours (a static table matches any key), every recipient
      # one Maildir (the trailing slash); later lines override the above.
      echo "mydestination ="
      echo "virtual_mailbox_domains = static:all"
      echo "virtual_mailbox_base = ${PEERS_MAILDIR%/*}"
      echo "virtual_mailbox_maps = static:${PEERS_MAILDIR##*/}/"
      echo "virtual_uid_maps = static:65534"
      echo "virtual_gid_maps = static:65534"
      echo "virtual_mailbox_limit = 0"
      echo "message_size_limit = 20480000"
      echo "smtpd_recipient_restrictions = ${PEERS_MAILDIR_ACCESS:+check_recipient_access texthash:$PEERS_MAILDIR_ACCESS, }permit"
      [ -z "${PEERS_MAILDIR_TRANSPORT:-}" ] || echo "transport_maps = texthash:$PEERS_MAILDIR_TRANSPORT"
      # as fast as a one-machine smarthost can be: no per-message pauses
      echo "in_flow_delay = 0"
      echo "smtpd_error_sleep_time = 0"
    fi
    if [ -n "${PEERS_SUBMISSION:-}" ]; then
      echo "smtpd_tls_cert_file = $PEERS_SUBMISSION_CERT"
      echo "smtpd_tls_key_file = $PEERS_SUBMISSION_KEY"
      echo "smtpd_tls_security_level = encrypt"
      echo "smtpd_tls_auth_only = yes"
      echo "smtpd_tls_received_header = yes"
      echo "smtpd_sasl_auth_enable = yes"
      echo "smtpd_sasl_type = cyrus"
      echo "smtpd_sasl_path = smtpd"
      echo "cyrus_sasl_config_path = $d/sasl"
      echo "smtpd_sasl_local_domain = submission.test"
      echo "smtpd_sasl_security_options = noanonymous"
      echo "smtpd_recipient_restrictions = permit_sasl_authenticated, reject"
    fi
    if [ -n "$relay" ]; then
      echo "relayhost = [${relay%:*}]:${relay##*:}"
    else
      echo "default_transport = error:5.3.0 test peer has no route out"
    fi
  } >"$d/main.cf"
  cp /usr/share/postfix/master.cf.dist "$d/master.cf"
  # Postfix re-reads a main.cf modified in the current second, 300 ms at a
  # time, until it is older (against half-written files): age it.
  touch -d '-2 seconds' "$d/main.cf"
  local err
  err=$( { postconf -c "$d" -M# smtp/inet &&
           postconf -c "$d" -Me "$addr:$port/inet=$addr:$port inet n - n - - smtpd" &&
           postconf -c "$d" -F '*/*/chroot = n'; } 2>&1) ||
    { peers__fail "$d" "postfix-$kind: postconf failed: $err"; return 1; }
  if [ -n "${PEERS_SUBMISSION:-}" ]; then
    # Cyrus SASL for smtpd: the users in a sasldb of this peer's own
    mkdir -p "$d/sasl"
    printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
      "$d/sasl/sasldb2" >"$d/sasl/smtpd.conf"
    printf '%s' "$PEERS_SUBMISSION_PASSWORD" |
      saslpasswd2 -p -c -f "$d/sasl/sasldb2" -u submission.test "$PEERS_SUBMISSION_USER" ||
      { peers__fail "$d" "postfix-$kind: saslpasswd2 failed"; return 1; }
    chown postfix "$d/sasl/sasldb2"
    chmod 600 "$d/sasl/sasldb2"
    if [ -n "${PEERS_SUBMISSION_SMTPS:-}" ]; then
      err=$(postconf -c "$d" -Me "$addr:$PEERS_SUBMISSION_SMTPS/inet=$addr:$PEERS_SUBMISSION_SMTPS inet n - n - - smtpd -o smtpd_tls_wrappermode=yes" 2>&1) ||
        { peers__fail "$d" "postfix-$kind: postconf failed: $err"; return 1; }
    fi
  fi
  touch -d '-2 seconds' "$d/master.cf"
  daemon_dir=$(postconf -c "$d" -h daemon_directory)
  peers__spawn "$d" -- "$daemon_dir/master" -c "$d" -d
  peers__await "postfix-$kind" "$d" "$PEERS_LAST_PID" "$addr" "$port" smtp
}

start_postfix_open() {
  [ $# -eq 3 ] || { peers__say "usage: start_postfix_open ADDR PORT RELAY_ADDR:RELAY_PORT"; return 1; }
  peers__postfix open "$@"
}

start_postfix_closed() {
  [ $# -ge 2 ] || { peers__say "usage: start_postfix_closed ADDR PORT [RELAY_ADDR:RELAY_PORT]"; return 1; }
  peers__postfix closed "$@"
}

start_postfix_greylist() {
  [ $# -eq 5 ] ||
    { peers__say "usage: start_postfix_greylist ADDR PORT RELAY_ADDR:RELAY_PORT POLICY_ADDR POLICY_PORT"; return 1; }
  peers__postfix greylist "$1" "$2" "$3" "$4:$5"
}

start_postfix_greylist_closed() {
  [ $# -eq 4 ] ||
    { peers__say "usage: start_postfix_greylist_closed ADDR PORT POLICY_ADDR POLICY_PORT"; return 1; }
  peers__postfix greylist-closed "$1" "$2" "" "$3:$4"
}

start_postfix_maildir() {
  [ $# -ge 3 ] && [ $# -le 5 ] ||
    { peers__say "usage: start_postfix_maildir ADDR PORT MAILDIR [ACCESS_FILE [TRANSPORT_FILE]]"; return 1; }
  local maildir=$3
  case $maildir in /*) ;; *) maildir=$PWD/$maildir ;; esac
  mkdir -p "$maildir"/{new,cur,tmp}
  chown -R 65534:65534 "$maildir"
  chmod 755 "${maildir%/*}"
  PEERS_MAILDIR=$maildir PEERS_MAILDIR_ACCESS=${4:-} PEERS_MAILDIR_TRANSPORT=${5:-} peers__postfix maildir "$1" "$2"
}

start_postfix_submission() {
  [ $# -ge 7 ] && [ $# -le 8 ] ||
    { peers__say "usage: start_postfix_submission ADDR PORT MAILDIR CERT KEY USER PASSWORD [SMTPS_PORT]"; return 1; }
  command -v saslpasswd2 >/dev/null ||
    { peers__say "saslpasswd2 is not installed (sasl2-bin: scripts/install-deps.sh --with-peers)"; return 1; }
  local maildir=$3
  case $maildir in /*) ;; *) maildir=$PWD/$maildir ;; esac
  mkdir -p "$maildir"/{new,cur,tmp}
  chown -R 65534:65534 "$maildir"
  chmod 755 "${maildir%/*}"
  chmod 644 "$4"; chmod 600 "$5"
  PEERS_MAILDIR=$maildir PEERS_MAILDIR_ACCESS= PEERS_MAILDIR_TRANSPORT= PEERS_SUBMISSION=1 \
    PEERS_SUBMISSION_CERT=$4 PEERS_SUBMISSION_KEY=$5 PEERS_SUBMISSION_USER=$6 \
    PEERS_SUBMISSION_PASSWORD=$7 PEERS_SUBMISSION_SMTPS=${8:-} peers__postfix maildir "$1" "$2"
}

# ---------------------------------------------------------------- postgrey

start_postgrey() {
  [ $# -eq 2 ] || { peers__say "usage: start_postgrey ADDR PORT"; return 1; }
  local addr=$1 port=$2 d
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  [ -x /usr/sbin/postgrey ] && id postgrey >/dev/null 2>&1 ||
    { peers__say "postgrey is not installed (scripts/install-deps.sh --with-peers)"; return 1; }
  d=$(peers__dir postgrey "$addr" "$port") || return 1
  # postgrey drops to its user before it opens the database.
  mkdir -p "$d/db"
  chown postgrey:postgrey "$d/db"
  # Debian's whitelists, named so that no machine's *.local file adds to them:
  # they name mail providers' hosts, never a loopback client or "unknown".
  # No -d: in the foreground postgrey logs to stderr (stdout.log) and keeps its PID.
  peers__spawn "$d" -- /usr/sbin/postgrey --inet="$addr:$port" --dbdir="$d/db" \
    --delay="$PEERS_GREYLIST_DELAY" --hostname="postgrey.test" \
    --whitelist-clients=/etc/postgrey/whitelist_clients \
    --whitelist-recipients=/etc/postgrey/whitelist_recipients
  peers__await postgrey "$d" "$PEERS_LAST_PID" "$addr" "$port" tcp
}

# ---------------------------------------------------------------- OpenSMTPD

# peers__opensmtpd_root: print where the unpacked OpenSMTPD lives, unpacking
# it (and creating its users) first if needed.
peers__opensmtpd_root() {
  local root=${PLUGHOLE_PEERS_CACHE:-/var/cache/plughole-peers}/opensmtpd
  if [ ! -x "$root/usr/sbin/smtpd" ] || ! id opensmtpq >/dev/null 2>&1 ||
     [ ! -d /var/lib/opensmtpd/empty ] || [ ! -d /var/spool/smtpd ]; then
    bash "$PEERS_LIB_DIR/opensmtpd_setup.sh" >&2 || return 1
  fi
  echo "$root"
}

# peers__opensmtpd KIND ADDR PORT [RELAY]
peers__opensmtpd() {
  local kind=$1 addr=$2 port=$3 relay=${4:-} d root action
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  [ -z "$relay" ] || peers__check_hostport "$relay" || return 1
  root=$(peers__opensmtpd_root) ||
    { peers__say "opensmtpd-$kind: OpenSMTPD cannot be unpacked (opensmtpd_setup.sh)"; return 1; }
  d=$(peers__dir "opensmtpd-$kind" "$addr" "$port") || return 1
  # Spool and control socket are compiled-in paths (/var/spool/smtpd,
  # /run/smtpd.sock): each instance gets private ones by bind mounts.
  mkdir -p "$d/spool" "$d/run"
  chmod 711 "$d/spool"
  if [ -n "$relay" ]; then action="relay host smtp://$relay"; else action="relay"; fi
  {
    echo "# OpenSMTPD test peer ($kind) on $addr:$port, written by tests/it/lib/peers.sh"
    echo "listen on $addr port $port hostname opensmtpd-$kind.test"
    echo "action \"out\" $action"
    if [ "$kind" = open ]; then
      echo "match from any for any action \"out\""
    else
      # Not "from local": that includes 127.0.0.1, where test clients come from.
      echo "table self { $addr }"
      echo "match from src <self> for any action \"out\""
    fi
  } >"$d/smtpd.conf"
  peers__spawn "$d" "$d/spool" /var/spool/smtpd "$d/run" /run -- \
    "$root/usr/sbin/smtpd" -d -f "$d/smtpd.conf"
  peers__await "opensmtpd-$kind" "$d" "$PEERS_LAST_PID" "$addr" "$port" smtp
}

start_opensmtpd_open() {
  [ $# -eq 3 ] || { peers__say "usage: start_opensmtpd_open ADDR PORT RELAY_ADDR:RELAY_PORT"; return 1; }
  peers__opensmtpd open "$@"
}

start_opensmtpd_closed() {
  [ $# -ge 2 ] || { peers__say "usage: start_opensmtpd_closed ADDR PORT [RELAY_ADDR:RELAY_PORT]"; return 1; }
  peers__opensmtpd closed "$@"
}

# ---------------------------------------------------------------- Exim

# peers__exim_root: print where the unpacked Exim lives, unpacking it (and
# creating its user) first if needed.
peers__exim_root() {
  local root=${PLUGHOLE_PEERS_CACHE:-/var/cache/plughole-peers}/exim4
  if [ ! -x "$root/usr/sbin/exim4" ] || ! id Debian-exim >/dev/null 2>&1; then
    bash "$PEERS_LIB_DIR/exim_setup.sh" >&2 || return 1
  fi
  echo "$root"
}

# peers__exim KIND ADDR PORT [RELAY]
peers__exim() {
  local kind=$1 addr=$2 port=$3 relay=${4:-} d root relay_from
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  [ -z "$relay" ] || peers__check_hostport "$relay" || return 1
  root=$(peers__exim_root) ||
    { peers__say "exim-$kind: Exim cannot be unpacked (exim_setup.sh)"; return 1; }
  d=$(peers__dir "exim-$kind" "$addr" "$port") || return 1
  # Exim writes spool and logs as its own user.
  mkdir -p "$d/spool"
  chown Debian-exim:Debian-exim "$d" "$d/spool"
  if [ "$kind" = open ]; then relay_from=0.0.0.0/0; else relay_from=$addr/32; fi
  {
    cat <<EOF
# Exim test peer ($kind) on $addr:$port, written by tests/it/lib/peers.sh
# The binary re-executes itself to deliver: from the unpacked package.
exim_path = $root/usr/sbin/exim4
primary_hostname = exim-$kind.test
qualify_domain = exim-$kind.test
local_interfaces = $addr
daemon_smtp_ports = $port
disable_ipv6 = true
spool_directory = $d/spool
log_file_path = $d/%s.log
log_selector = +smtp_syntax_error +smtp_protocol_error +smtp_no_mail +received_recipients
keep_environment =
# No STARTTLS, as Debian's stock configuration (no certificate).
tls_advertise_hosts =
# Never ask DNS or the client: no PTR lookup, no ident (RFC 1413) query; the
# smarthost is an address literal.
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
# smtp_max_synprot_errors is left at Exim's default (3) on purpose: a session
# ends after three syntax or protocol errors, as on every stock Exim.
domainlist local_domains = @ : exim-$kind.test
domainlist relay_to_domains =
EOF
    if [ "$kind" = open ]; then
      echo "# The classic open relay: every client may relay."
    fi
    echo "hostlist relay_from_hosts = $relay_from"
    # The rest is Exim's default configuration, trimmed: quoted heredoc, so
    # the regular expressions' backslashes reach Exim's own expansion.
    cat <<'EOF'
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  accept  hosts         = :
  deny    message       = Restricted characters in address
          domains       = +local_domains
          local_parts   = ^[.] : ^.*[@%!/|]
  deny    message       = Restricted characters in address
          domains       = !+local_domains
          local_parts   = ^[./|] : ^.*[@%!] : ^.*/\\.\\./
  accept  local_parts   = postmaster
          domains       = +local_domains
  accept  hosts         = +relay_from_hosts
          control       = submission/sender_retain
  require message       = relay not permitted
          domains       = +local_domains : +relay_to_domains
  require verify        = recipient
  accept

begin routers

# Local mail is not kept.
local_discard:
  driver = redirect
  domains = +local_domains
  data = :blackhole:

EOF
    if [ -n "$relay" ]; then
      cat <<EOF
# Everything else goes to the loopback smarthost, never to DNS.
smarthost:
  driver = manualroute
  domains = ! +local_domains
  transport = remote_smtp
  route_list = * ${relay%:*}
  no_more

begin transports

remote_smtp:
  driver = smtp
  port = ${relay##*:}
  hosts_avoid_tls = *
  connect_timeout = 5s

begin retry

# Retry deferred mail within seconds (queue runs every 2 s), not minutes.
*   *   F,10m,1s
EOF
    else
      cat <<'EOF'
no_route:
  driver = redirect
  domains = ! +local_domains
  allow_fail
  data = :fail: test peer has no route out
EOF
    fi
  } >"$d/exim.conf"
  local err
  # Under the same DNS isolation as the daemon.
  err=$(peers_exec "$root/usr/sbin/exim4" -C "$d/exim.conf" -bV 2>&1 >/dev/null) ||
    { peers__fail "$d" "exim-$kind: configuration rejected: $err"; return 1; }
  # -bdf: daemon in the foreground (the PID stays ours); -q2s: retry deferred
  # mail every 2 s; -oX overrides the port only, local_interfaces the address.
  peers__spawn "$d" -- "$root/usr/sbin/exim4" -C "$d/exim.conf" -bdf -q2s -oX "$port"
  peers__await "exim-$kind" "$d" "$PEERS_LAST_PID" "$addr" "$port" smtp
}

start_exim_open() {
  [ $# -eq 3 ] || { peers__say "usage: start_exim_open ADDR PORT RELAY_ADDR:RELAY_PORT"; return 1; }
  peers__exim open "$@"
}

start_exim_closed() {
  [ $# -eq 2 ] || { peers__say "usage: start_exim_closed ADDR PORT"; return 1; }
  peers__exim closed "$@"
}

# ---------------------------------------------------------------- proxies

# peers__squid KIND ADDR PORT
peers__squid() {
  local kind=$1 addr=$2 port=$3 d
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  command -v squid >/dev/null || { peers__say "squid is not installed"; return 1; }
  d=$(peers__dir "squid-$kind" "$addr" "$port") || return 1
  chown proxy:proxy "$d"
  {
    cat <<EOF
# Squid test peer ($kind) on $addr:$port, written by tests/it/lib/peers.sh
http_port $addr:$port
pid_filename $d/squid.pid
cache_log $d/cache.log
access_log stdio:$d/access.log
cache_store_log none
coredump_dir $d
cache deny all
cache_mem 4 MB
visible_hostname squid-$kind.test
dns_nameservers $PEERS_DNS_ADDR
tcp_outgoing_address $PEERS_EXIT_ADDR
pinger_enable off
icp_port 0
htcp_port 0
shutdown_lifetime 0 seconds
# No CONNECT port list: any port may be tunnelled, but only to loopback.
acl lab dst 127.0.0.0/8
acl self src $addr/32
EOF
    if [ "$kind" = open ]; then
      echo "http_access allow lab"
    else
      echo "http_access allow self lab"
    fi
    echo "http_access deny all"
  } >"$d/squid.conf"
  # -n: a service name of our own (alphanumeric only) keeps shared memory and
  # pid apart per instance.
  peers__spawn "$d" -- squid -N -f "$d/squid.conf" \
    -n "plughole${addr//./x}p$port"
  peers__await "squid-$kind" "$d" "$PEERS_LAST_PID" "$addr" "$port" tcp
}

start_squid_open() {
  [ $# -eq 2 ] || { peers__say "usage: start_squid_open ADDR PORT"; return 1; }
  peers__squid open "$@"
}

start_squid_closed() {
  [ $# -eq 2 ] || { peers__say "usage: start_squid_closed ADDR PORT"; return 1; }
  peers__squid closed "$@"
}

start_tinyproxy_open() {
  [ $# -eq 2 ] || { peers__say "usage: start_tinyproxy_open ADDR PORT"; return 1; }
  local addr=$1 port=$2 d
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  command -v tinyproxy >/dev/null || { peers__say "tinyproxy is not installed"; return 1; }
  d=$(peers__dir tinyproxy-open "$addr" "$port") || return 1
  chown nobody:nogroup "$d"
  # Allowed destinations: IPv4 loopback literals (names cannot resolve anyway).
  echo '^127\.[0-9]+\.[0-9]+\.[0-9]+$' >"$d/filter"
  cat >"$d/tinyproxy.conf" <<EOF
# tinyproxy test peer on $addr:$port, written by tests/it/lib/peers.sh
User nobody
Group nogroup
Listen $addr
Port $port
Bind $PEERS_EXIT_ADDR
Timeout 30
LogFile "$d/tinyproxy.log"
LogLevel Info
PidFile "$d/tinyproxy.pid"
MaxClients 50
Allow 127.0.0.0/8
Filter "$d/filter"
FilterURLs Off
FilterType ere
FilterDefaultDeny Yes
EOF
  # No ConnectPort line: CONNECT is allowed to every port.
  peers__spawn "$d" -- tinyproxy -d -c "$d/tinyproxy.conf"
  peers__await tinyproxy-open "$d" "$PEERS_LAST_PID" "$addr" "$port" tcp
}

# peers__dante KIND ADDR PORT
peers__dante() {
  local kind=$1 addr=$2 port=$3 d method
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  command -v danted >/dev/null || { peers__say "danted is not installed"; return 1; }
  d=$(peers__dir "dante-$kind" "$addr" "$port") || return 1
  if [ "$kind" = auth ]; then method=username; else method=none; fi
  cat >"$d/danted.conf" <<EOF
# Dante test peer ($kind) on $addr:$port, written by tests/it/lib/peers.sh
logoutput: $d/danted.log
internal: $addr port = $port
external: $PEERS_EXIT_ADDR
clientmethod: none
socksmethod: $method
user.privileged: root
user.unprivileged: nobody
# One keyword per line: Dante's parser rejects "command: connect log: ...".
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error
}
client block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: error connect
}
socks pass {
  from: 0.0.0.0/0 to: 127.0.0.0/8
  command: connect
  socksmethod: $method
  log: error connect
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: error connect
}
EOF
  peers__spawn "$d" -- danted -f "$d/danted.conf" -p "$d/danted.pid" -N 1
  peers__await "dante-$kind" "$d" "$PEERS_LAST_PID" "$addr" "$port" tcp
}

start_dante_open() {
  [ $# -eq 2 ] || { peers__say "usage: start_dante_open ADDR PORT"; return 1; }
  peers__dante open "$@"
}

start_dante_auth() {
  [ $# -eq 2 ] || { peers__say "usage: start_dante_auth ADDR PORT"; return 1; }
  peers__dante auth "$@"
}

start_microsocks() {
  [ $# -eq 2 ] || [ $# -eq 4 ] || { peers__say "usage: start_microsocks ADDR PORT [USER PASS]"; return 1; }
  local addr=$1 port=$2 d auth=()
  peers__need_init && peers__check_addr "$addr" "$port" || return 1
  command -v microsocks >/dev/null || { peers__say "microsocks is not installed"; return 1; }
  d=$(peers__dir microsocks "$addr" "$port") || return 1
  # A route lookup only, no packet: a loopback source must not reach outside.
  if ip route get 192.0.2.1 from "$PEERS_EXIT_ADDR" >/dev/null 2>&1; then
    peers__say "microsocks: the kernel would route from $PEERS_EXIT_ADDR to other hosts; no fence"
    return 1
  fi
  [ $# -eq 4 ] && auth=(-u "$3" -P "$4")
  peers__spawn "$d" -- microsocks -i "$addr" -p "$port" -b "$PEERS_EXIT_ADDR" "${auth[@]}"
  peers__await microsocks "$d" "$PEERS_LAST_PID" "$addr" "$port" tcp
}

peers_flush_queues() {
  peers__need_init || return 1
  local d root err
  for d in "$PEERS_DIR"/postfix-*/; do
    [ -f "$d/main.cf" ] || continue
    err=$(postqueue -c "${d%/}" -f 2>&1) || { peers__fail "${d%/}" "postqueue -f failed: $err"; return 1; }
  done
  for d in "$PEERS_DIR"/opensmtpd-*/; do
    [ -f "$d/smtpd.conf" ] || continue
    root=$(peers__opensmtpd_root) || return 1
    # smtpctl talks to the compiled-in /run/smtpd.sock and insists on its
    # setgid group.
    err=$(unshare --mount --propagation private -- /bin/sh -c '
            mount --bind "$1" /run && exec setpriv --regid opensmtpq --clear-groups "$2" schedule all' \
            peers-flush "${d}run" "$root/usr/sbin/smtpctl" 2>&1) ||
      { peers__fail "${d%/}" "smtpctl schedule all failed: $err"; return 1; }
  done
}

# ---------------------------------------------------------------- stopping

peers_dump_logs() {
  [ -n "$PEERS_DIR" ] && [ -d "$PEERS_DIR" ] || return 0
  local f
  for f in "$PEERS_DIR"/*/*.log "$PEERS_DIR"/*/maillog; do
    [ -s "$f" ] || continue
    printf -- '---- %s\n' "$f" >&2
    tail -n 100 "$f" >&2
  done
}

peers_stop_all() {
  [ ${#PEERS_PIDS[@]} -gt 0 ] || return 0
  local pid i all=() left
  # Collect children first: once a parent dies they are init's, not ours.
  for pid in "${PEERS_PIDS[@]}"; do
    # shellcheck disable=SC2207
    all+=("$pid" $(peers__descendants "$pid"))
  done
  # Parents first, so that they shut their own children down cleanly.
  for pid in "${PEERS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    left=0
    for pid in "${all[@]}"; do peers__alive "$pid" && left=1 && break; done
    [ $left = 0 ] && break
    # Halfway, leftover children and each server's session get their own TERM.
    if [ $i = 40 ]; then
      for pid in "${all[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
      for pid in "${PEERS_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    fi
    sleep 0.05
  done
  for pid in "${all[@]}"; do
    if peers__alive "$pid"; then
      peers__say "pid $pid survived TERM for 5 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${PEERS_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for pid in "${PEERS_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PEERS_PIDS=()
  return 0
}
