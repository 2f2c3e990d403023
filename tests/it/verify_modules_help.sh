#!/usr/bin/env bash
# verify's modules have one source, the module table (src/probe/modules.c):
# `verify --help` and the man page list every module from it, the names
# `--protocols` takes are those, and README's list of modules says the same,
# in the same order; README's status-line interval is --help's (issue 15). No network.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
README="$(dirname "$0")/../../README.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

help=$("$PLUGHOLE" verify --help 2>&1)
# The "modules" section: one row per module, its name first.
modules=$(awk '/^modules \(/ { on = 1; next } on && /^  [a-z]/ { print $1 }' <<<"$help" | paste -sd, -)
[ "$(tr ',' '\n' <<<"$modules" | grep -c .)" -ge 13 ] || { echo "FAIL: modules in --help: '$modules'" >&2; exit 1; }
# Each is a name --protocols takes; an unknown one is refused with the valid names, from the same table.
IFS=, read -ra names <<<"$modules"
for m in "${names[@]}"; do
  "$PLUGHOLE" --db "$tmp/db" verify --protocols "$m" --sink 127.87.0.9:0 --sink-domain sink.test >/dev/null 2>"$tmp/err" || true
  assert_not_contains "$(cat "$tmp/err")" "not a module"
done
rc=0
"$PLUGHOLE" --db "$tmp/db" verify --protocols nosuch --sink-domain sink.test >/dev/null 2>"$tmp/err" || rc=$?
assert_eq "$rc" 2 "an unknown module is a usage error"
for m in "${names[@]}"; do assert_contains "$(cat "$tmp/err")" "$m"; done
# The man page carries the same rows.
man=$("$PLUGHOLE" help --man)
for m in "${names[@]}"; do assert_contains "$man" "${m//-/\\-}"; done
# README: "modules: a, b, c;" in the verify row, the table's order.
# shellcheck disable=SC2016 # the backquotes are README's, not a command
readme=$(sed -n 's/.*`--ports`; modules: \([^;]*\);.*/\1/p' "$README" | tr -d ' ')
assert_eq "$readme" "$modules" "README's modules and verify --help's"
# The status lines' interval (LOG_STATUS_INTERVAL): --help and README say the same.
every=$(tr '\n' ' ' <<<"$help" | sed -n 's/.*status line every \([0-9]*\) seconds.*/\1/p')
[ -n "$every" ] || { echo "FAIL: verify --help names no status interval" >&2; exit 1; }
assert_eq "$(tr '\n' ' ' <"$README" | sed -n 's/.*status line every \([0-9]*\) seconds.*/\1/p')" "$every" \
  "README's status interval and verify --help's"
echo "ok: ${#names[@]} modules, one list in --help, the man page and README"
