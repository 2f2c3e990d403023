#!/usr/bin/env bash
# The sink's settings have one source: `sink --help` shows the defaults the
# config reader uses, and README's [sink] block says the same; limits that
# contradict each other (max_message above max_bodies: every DATA would get
# 452), from options or from the config file, stop the sink at start with an
# error naming both settings.
# Addresses: 127.62.0.5 (port 0; the sink must refuse before it listens).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
README="$(dirname "$0")/../../README.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P() { "$PLUGHOLE" --db "$tmp/db" "$@"; }

help=$(P sink --help 2>&1)
# README's [sink] block: "key = number ; comment" lines, up to the next section.
block=$(awk '/^ *\[sink\]/ { on = 1; next } /^ *\[/ { on = 0 } on' "$README")
keys=0
while read -r key _ value _; do
	case "$value" in '' | *[!0-9]*) continue ;; esac
	keys=$((keys + 1))
	assert_contains "$help" "([sink] $key, default $value)"
done <<<"$block"
helped=$(grep -c '(\[sink\] [a-z_]*, default [0-9]*)' <<<"$help")
assert_eq "$keys" "$helped" "README's [sink] block and --help name the same numeric settings"
[ "$keys" -ge 6 ] || { echo "FAIL: only $keys numeric [sink] settings in the README" >&2; exit 1; }

default() { sed -n "s/.*(\[sink\] $1, default \([0-9]*\)).*/\1/p" <<<"$help"; }
# refused KEY-VALUES... -- EXPECT: exit 2, no listener, the error names EXPECT.
refused() {
	local args=() expect
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	expect=$2
	local rc=0
	timeout 5 "$PLUGHOLE" --db "$tmp/db" "${args[@]}" sink --listen 127.62.0.5:0 --domain sink.test "${@:3}" >"$tmp/out" 2>"$tmp/err" || rc=$?
	assert_eq "$rc" 2 "a usage error for ${args[*]} ${*:3}"
	assert_not_contains "$(cat "$tmp/err")" "listening on"
	assert_contains "$(cat "$tmp/err")" "$expect"
}
# The config reader's defaults are the ones --help shows: each error quotes them.
bodies=$(default max_bodies)
refused -- "max_message ($((bodies + 1))) is above max_bodies ($bodies)" --max-message $((bodies + 1))
refused -- "max_message (4096) is above max_bodies (2048)" --max-bodies 2048 --max-message 4096
printf '[sink]\nmax_message = 8192\nmax_bodies = 4096\n' >"$tmp/conf"
refused --config "$tmp/conf" -- "max_message (8192) is above max_bodies (4096)"
echo "ok: $keys settings agree; contradictions are refused"
