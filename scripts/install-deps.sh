#!/usr/bin/env bash
# Installs the Debian packages plughole builds and tests with
# (--with-peers: and the test peers; --with-demo: and what the demo runs).
# Idempotent and non-interactive: a no-op when everything is present.
# Never lets a package start a system daemon (see shared/PEERS.md).
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libssl-dev
            libsqlite3-dev libcmocka-dev libinih-dev zlib1g-dev
            libcurl4-openssl-dev libjansson-dev sqlite3 libgmime-3.0-dev)
# libidn12: the one shared library of the unpacked Exim (below) that a stock
# Debian lacks. postgrey: the greylisting policy server the tests run beside
# Postfix (its system instance is never started: policy-rc.d below).
# rbldnsd, dnsutils (dig) and bind9-utils (named-checkzone): the DNSBL export
# served and queried for real (tests/it/export_dnsbl.sh; rbldnsd's own service
# is never started: policy-rc.d below).
test_pkgs=(swaks python3 postfix tinyproxy dante-server microsocks squid nmap
           postgrey libidn12 rbldnsd dnsutils bind9-utils)

# The demo sends its letters through a real local Postfix (tests/it/lib/peers.sh).
demo_pkgs=(python3 postfix)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--with-peers" ] && want+=("${test_pkgs[@]}")
[ "${1:-}" = "--with-demo" ] && want+=("${demo_pkgs[@]}")

# Debian's MTAs conflict, so the other MTAs (OpenSMTPD, Exim) for the
# real-peer tests are unpacked beside Postfix rather than installed
# (tests/it/lib/).
second_mta() {
  [ "${1:-}" = "--with-peers" ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo bash "$(dirname "$0")/../tests/it/lib/opensmtpd_setup.sh"
  $sudo bash "$(dirname "$0")/../tests/it/lib/exim_setup.sh"
}

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then second_mta "${1:-}"; exit 0; fi

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ $created_policy = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
second_mta "${1:-}"
