#!/usr/bin/env bash
# Makes Exim 4 runnable beside Postfix for the integration tests.
#
# Debian's MTAs conflict (each provides mail-transport-agent), so Exim is not
# installed: Debian's exim4-daemon-light .deb is fetched with `apt-get
# download`, unpacked with `dpkg-deb -x` into a cache, and its binary run from
# there (peers.sh) with a private configuration (-C). Only the daemon package
# is needed: exim4-base holds the maintenance tools and exim4-config Debian's
# split configuration, neither of which a -C configuration uses. What the
# binary needs beyond that:
#   - its shared libraries, all ordinary packages that may sit beside Postfix
#     (libidn12 is the one a stock Debian lacks; install-deps.sh installs it);
#   - its compiled-in exim_user and exim_group, Debian-exim, created here as
#     the exim4-base maintainer script does.
# Spool, logs and pid file are set in each peer's configuration, so none of
# Exim's compiled-in directories (/var/spool/exim4, /var/log/exim4) is used.
#
# Idempotent, safe to run concurrently (flock), needs root. Prints nothing on
# success; on success the binary is $PLUGHOLE_PEERS_CACHE/exim4/usr/sbin/exim4
# (default cache /var/cache/plughole-peers).
set -euo pipefail

cache=${PLUGHOLE_PEERS_CACHE:-/var/cache/plughole-peers}
root=$cache/exim4
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 300 9

if [ ! -x "$root/usr/sbin/exim4" ]; then
  dl=$(mktemp -d "$cache/download.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  # apt drops to _apt for downloads; let it write here (else it warns).
  getent passwd _apt >/dev/null && chown _apt "$dl"
  if ! (cd "$dl" && apt-get download -q exim4-daemon-light >"$dl/apt.log" 2>&1); then
    # An empty or stale package list is the usual cause: refresh once.
    apt-get update -qq >>"$dl/apt.log" 2>&1 || true
    (cd "$dl" && apt-get download -q exim4-daemon-light >>"$dl/apt.log" 2>&1) || {
      echo "exim_setup: apt-get download exim4-daemon-light failed:" >&2
      cat "$dl/apt.log" >&2
      exit 1
    }
  fi
  dpkg-deb -x "$dl"/exim4-daemon-light_*.deb "$dl/root"
  rm -rf "$root"
  mv "$dl/root" "$root"
fi

getent group Debian-exim >/dev/null || addgroup --quiet --system --force-badname Debian-exim
id Debian-exim >/dev/null 2>&1 ||
  adduser --quiet --system --home /var/spool/exim4 --no-create-home --disabled-login \
          --force-badname --gecos "Exim test peer" --ingroup Debian-exim Debian-exim

# A missing shared library shows only when the binary runs: say which.
if missing=$(ldd "$root/usr/sbin/exim4" | grep 'not found'); then
  echo "exim_setup: $root/usr/sbin/exim4 lacks shared libraries (scripts/install-deps.sh --with-peers):" >&2
  echo "$missing" >&2
  exit 1
fi
