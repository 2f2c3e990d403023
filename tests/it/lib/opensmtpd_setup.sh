#!/usr/bin/env bash
# Makes OpenSMTPD runnable beside Postfix for the integration tests.
#
# Debian's MTAs conflict (each provides mail-transport-agent), so OpenSMTPD is
# not installed: its .deb is fetched with `apt-get download`, unpacked with
# `dpkg-deb -x` into a cache, and its binary run from there (peers.sh). This
# also creates what the binary expects at compiled-in places: the users
# opensmtpd and opensmtpq, the chroot /var/lib/opensmtpd/empty and the mount
# point /var/spool/smtpd (peers.sh binds a private spool over it).
#
# Idempotent, safe to run concurrently (flock), needs root. Prints nothing on
# success; on success the binary is $PLUGHOLE_PEERS_CACHE/opensmtpd/usr/sbin/smtpd
# (default cache /var/cache/plughole-peers).
set -euo pipefail

cache=${PLUGHOLE_PEERS_CACHE:-/var/cache/plughole-peers}
root=$cache/opensmtpd
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 300 9

if [ ! -x "$root/usr/sbin/smtpd" ]; then
  dl=$(mktemp -d "$cache/download.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  # apt drops to _apt for downloads; let it write here (else it warns).
  getent passwd _apt >/dev/null && chown _apt "$dl"
  if ! (cd "$dl" && apt-get download -q opensmtpd >"$dl/apt.log" 2>&1); then
    # An empty or stale package list is the usual cause: refresh once.
    apt-get update -qq >>"$dl/apt.log" 2>&1 || true
    (cd "$dl" && apt-get download -q opensmtpd >>"$dl/apt.log" 2>&1) || {
      echo "opensmtpd_setup: apt-get download opensmtpd failed:" >&2
      cat "$dl/apt.log" >&2
      exit 1
    }
  fi
  dpkg-deb -x "$dl"/opensmtpd_*.deb "$dl/root"
  rm -rf "$root"
  mv "$dl/root" "$root"
fi

mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
for group in opensmtpd opensmtpq; do
  getent group "$group" >/dev/null || addgroup --quiet --system "$group"
done
for user in opensmtpd opensmtpq; do
  id "$user" >/dev/null 2>&1 ||
    adduser --quiet --system --home /var/lib/opensmtpd/empty --no-create-home \
            --disabled-password --gecos "OpenSMTPD test peer" --ingroup "$user" "$user"
done
