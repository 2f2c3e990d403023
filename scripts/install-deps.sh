#!/usr/bin/env bash
# Installs the Debian packages plughole builds and tests with
# (--with-peers: and the test peers, and the headless browser the HTML tests
# drive; --with-demo: and what the demo runs).
# Idempotent and non-interactive: a no-op when everything is present.
# Never lets a package start a system daemon (see shared/PEERS.md).
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libssl-dev
            libsqlite3-dev libcmocka-dev libinih-dev zlib1g-dev
            libcurl4-openssl-dev libjansson-dev sqlite3 libgmime-3.0-dev
            libopendkim-dev libmicrohttpd-dev libcrypt-dev)
# libidn12: the one shared library of the unpacked Exim (below) that a stock
# Debian lacks. postgrey: the greylisting policy server the tests run beside
# Postfix (its system instance is never started: policy-rc.d below).
# rbldnsd, dnsutils (dig) and bind9-utils (named-checkzone): the DNSBL export
# served and queried for real (tests/it/export_dnsbl.sh; rbldnsd's own service
# is never started: policy-rc.d below).
# sasl2-bin: saslpasswd2 for the smarthost's AUTH database (letters_tls.sh;
# its saslauthd is never started); python3-dkim: the independent DKIM
# verifier of letters_dkim.sh.
test_pkgs=(swaks python3 postfix tinyproxy dante-server microsocks squid nmap
           postgrey libidn12 chromium sasl2-bin python3-dkim wrk lighttpd
           rbldnsd dnsutils bind9-utils)
# Node.js drives Chromium (tests/it/lib/browser.mjs); a Node.js from another
# source (NodeSource bundles npm) is kept, so these are added only if missing.
node_cmds=(node:nodejs npm:npm)

# The demo sends its letters through a real local Postfix (tests/it/lib/peers.sh).
demo_pkgs=(python3 postfix)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--with-peers" ]; then
  want+=("${test_pkgs[@]}")
  for c in "${node_cmds[@]}"; do
    command -v "${c%%:*}" >/dev/null || want+=("${c#*:}")
  done
fi
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
  browser_driver
}

# playwright-core, pinned, drives Debian's /usr/bin/chromium (never a browser
# download of its own) for tests/it/lib/browser.mjs, which looks in the same
# directory (PLUGHOLE_NODE_DIR).
playwright_version=1.64.1
browser_driver() {
  local dir="${PLUGHOLE_NODE_DIR:-/opt/plughole-node}"
  local have
  have=$(node -p "require('$dir/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
  [ "$have" = "$playwright_version" ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || [ -w "$(dirname "$dir")" ] || sudo=sudo
  $sudo mkdir -p "$dir"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $sudo npm install --no-audit --no-fund --no-save \
    --prefix "$dir" "playwright-core@$playwright_version" >/dev/null
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
