#!/usr/bin/env bash
# Where verify tells peers to connect (--sink, --target) obeys the exclusion
# list like a candidate: loopback only with --allow-loopback. Every store here
# is empty, and every run uses --external-sink: nothing is bound or probed.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

verify() { "$PLUGHOLE" --db "$tmp/db" verify --external-sink --sink-domain sink.test --wait 0 "$@"; }
refused() { # refused WHAT ARGS...: exit 1 and an error naming WHAT
  local what=$1 rc=0; shift
  verify "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  assert_eq "$rc" 1 "verify $*"
  assert_contains "$(cat "$tmp/err")" "$what: the address is excluded"
  assert_not_contains "$(cat "$tmp/out")" "verify:"
}

refused "--sink 10.0.0.1:25" --allow-loopback --sink 10.0.0.1:25
refused "--sink 10.0.0.1:25" --sink 10.0.0.1:25
assert_not_contains "$(cat "$tmp/err")" "--allow-loopback"
refused "--target 169.254.169.254:80" --allow-loopback --sink 127.61.0.1:2525 --target 169.254.169.254:80
refused "--target [64:ff9b::a9fe:a9fe]:80" --allow-loopback --sink 127.61.0.1:2525 --target "[64:ff9b::a9fe:a9fe]:80"
refused "--sink 127.61.0.1:2525" --sink 127.61.0.1:2525
assert_contains "$(cat "$tmp/err")" "loopback only with --allow-loopback"
refused "--sink [::1]:2525" --sink "[::1]:2525"

# Loopback with --allow-loopback, the mapped form included, is accepted.
out=$(verify --allow-loopback --sink "[::ffff:127.61.0.1]:2525" --target 127.61.0.2:8080 2>"$tmp/err")
assert_contains "$out" "verify: 0 targets"
# README's Safety section lists exactly the ranges of data/exclude.conf.
listed=$(sed -n '/^## Safety/,/^- the ranges of the operator/p' "$PLUGHOLE_SRC/README.md" | sed '$d' | grep -o '`[^`]*`' |
  tr -d '`' | grep -v '^data/' | sort)
shipped=$(grep -v '^[[:space:]]*\(#\|$\)' "$PLUGHOLE_DATA/exclude.conf" | awk '{print $1}' | sort)
assert_eq "$listed" "$shipped" "README's Safety list against data/exclude.conf"
echo "safety: ok"
