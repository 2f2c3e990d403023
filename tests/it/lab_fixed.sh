#!/usr/bin/env bash
# plughole-lab --fixed-file: hosts listed there play their fixed form while the
# lab runs (an open relay refuses foreign recipients, an open HTTP proxy
# answers 403, an open SOCKS5 proxy refuses CONNECT); the file is re-read
# when it changes and on SIGHUP, and emptied, the hosts are open again.
# Addresses: 127.80.200.1 (relay), 127.80.201.1 (HTTP proxy), 127.80.202.1 (SOCKS5).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.err >&2 || true; exit 1; }
fixed="$tmp/fixed"
for mix in open http-connect-open socks5-open; do
  "$LAB" --port 0 --hosts 127.80.200.0/22 --mix "$mix=1" --fixed-file "$fixed" >"$tmp/$mix.out" 2>"$tmp/$mix.err" &
  pids+=($!)
done
smtp=$(lab_ports "$tmp/open.out") || fail "the relay lab did not start"
http=$(lab_ports "$tmp/http-connect-open.out") || fail "the HTTP proxy lab did not start"
socks=$(lab_ports "$tmp/socks5-open.out") || fail "the SOCKS lab did not start"
# what each host answers: the RCPT reply code, the CONNECT status, the SOCKS5 reply (tunnels to
# 127.80.203.1, a relay of the first lab)
probe() {
  python3 - "$smtp" "$http" "$socks" <<'PY'
import socket, smtplib, sys
smtp, http, socks = (int(p) for p in sys.argv[1:])
s = smtplib.SMTP("127.80.200.1", smtp, local_hostname="client.test")
s.ehlo(); s.mail("a@client.test")
code, _ = s.rcpt("b@elsewhere.test"); s.quit()
c = socket.create_connection(("127.80.201.1", http)); c.sendall(b"CONNECT 127.80.203.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % smtp)
status = c.recv(64).split(b" ")[1].decode(); c.close()
k = socket.create_connection(("127.80.202.1", socks)); k.sendall(b"\x05\x01\x00"); k.recv(2)
k.sendall(b"\x05\x01\x00\x01\x7f\x50\xcb\x01" + smtp.to_bytes(2, "big")); reply = k.recv(10)[1]; k.close()
print(code, status, reply)
PY
}
assert_eq "$(probe)" "250 200 0" "open before any fix"
printf '# fixed\n127.80.200.1\n127.80.201.0/24\n127.80.202.1-127.80.202.9\n' >"$fixed"
first=$(probe)
[ "${first%% *}" -ge 500 ] || fail "the fixed relay still takes a foreign recipient: $first"
assert_eq "${first#* }" "403 2" "the fixed proxies refuse"
# emptied: open again (a new size, read at the next connection)
: >"$fixed"
assert_eq "$(probe)" "250 200 0" "open again"
# SIGHUP re-reads it even when size and time look the same
printf '127.80.201.1\n' >"$fixed"
probe >/dev/null
old=$(date -r "$fixed" '+%Y-%m-%d %H:%M:%S.%N')
printf '127.80.201.2\n' >"$fixed"; touch -d "$old" "$fixed" # the same size and time: only SIGHUP tells
assert_eq "$(probe | cut -d' ' -f2)" 403 "the change unseen without SIGHUP"
for p in "${pids[@]}"; do kill -HUP "$p"; done
sleep 0.3
assert_eq "$(probe | cut -d' ' -f2)" 200 "after SIGHUP the new list holds"
grep -q "fixed ranges from" "$tmp/http-connect-open.err" || fail "the lab does not say what it read"
echo "lab_fixed: ok"
