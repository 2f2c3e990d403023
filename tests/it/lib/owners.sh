# shellcheck shell=bash
# Helpers for tests that need a campaign of lab hosts.

# owners_campaign NAME PREFIX N...: one owner per network PREFIX.N.0/24 (an
# RPSL registry, loaded), attributes the findings and creates campaign NAME
# with no control group. Wants ph() and $tmp; returns non-zero on a failure
# (its stderr in $tmp/NAME.*.err).
owners_campaign() {
	local name=$1 prefix=$2 n
	shift 2
	for n in "$@"; do
		printf 'inetnum: %s.%s.0 - %s.%s.255\nnetname: %s-%s\ndescr: Owner %s\ncountry: DE\nabuse-c: R%s-%s\nsource: T\n\n' \
			"$prefix" "$n" "$prefix" "$n" "$name" "$n" "$n" "$n" "$name"
		printf 'role: Owner %s abuse\nabuse-mailbox: abuse@%s%s.example\nnic-hdl: R%s-%s\nsource: T\n\n' \
			"$n" "$name" "$n" "$n" "$name"
	done >"$tmp/$name.rpsl"
	ph attribute load "$tmp/$name.rpsl" >/dev/null 2>"$tmp/$name.load.err" &&
		ph attribute >/dev/null 2>"$tmp/$name.attr.err" &&
		ph campaign create "$name" --control 0 --seed 1 --domain "$name.test" >"$tmp/$name.create.out" \
			2>"$tmp/$name.create.err"
}
