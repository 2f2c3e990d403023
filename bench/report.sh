#!/usr/bin/env bash
# Report and DNSBL export benchmark (issue 13): a synthetic campaign of
# 1,000,000 hosts over 200,000 owners with 4 recheck rounds, built once
# (bench/lib/synth_campaign.sh: 127.x.y.z hosts, a store nothing verifies),
# then side by side: `plughole report NAME` (terminal, --json, --html; target
# under 5 s each), `plughole export dnsbl` in both formats (target under 2 s),
# and sqlite3's own `.mode list` run of the export's SELECT (printed by
# `export dnsbl --sql`) on the same rows, with the ratio export / sqlite3.
# Each figure is the best of three warm runs. No network traffic.
#   bash bench/report.sh BUILD_DIR   (REPORT_HOSTS=N REPORT_OWNERS=M REPORT_ROUNDS=R for another size)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole=$build/plughole
src=$(cd "$(dirname "$0")/.." && pwd)
hosts=${REPORT_HOSTS:-1000000}
owners=${REPORT_OWNERS:-200000}
rounds=${REPORT_ROUNDS:-4}
name=synthetic
report_target=5 export_target=2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/store.db

seconds() { # runs a command (its output to /dev/null), prints its wall time in seconds; fails as it does
	local start end
	start=$(date +%s.%N)
	"$@" > /dev/null 2> "$tmp/last.err" || return
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}
best_of_3() { # prints the best of three runs, or "failed"
	local best= t
	for _ in 1 2 3; do
		t=$(seconds "$@") || { echo failed; return; }
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	echo "$best"
}
line() { # LABEL SECONDS TARGET|-
	if [ "$2" = failed ]; then
		printf "%-28s failed: %s\n" "$1" "$(head -c 300 "$tmp/last.err" | tr '\n' ' ')"
	elif [ "$3" = - ]; then
		printf "%-28s %7.2f s\n" "$1" "$2"
	else
		printf "%-28s %7.2f s   (target < %s s: %s)\n" "$1" "$2" "$3" \
			"$([ "$(echo "$2 < $3" | bc -l)" = 1 ] && echo met || echo MISSED)"
	fi
}

echo "building the synthetic campaign: $hosts hosts, $owners owners, $rounds rounds..."
gen=$(seconds bash "$src/bench/lib/synth_campaign.sh" "$plughole" "$db" "$hosts" "$owners" "$rounds" "$name")
listed=$(sqlite3 "$db" "SELECT count(*) FROM findings WHERE verdict IN ('open-relay', 'open-proxy-mail', 'open-proxy-web')")
printf "store: %.0f MB, built in %.1f s; %s hosts open at the last round\n" \
	"$(echo "$(stat -c %s "$db") / 1000000" | bc -l)" "$gen" "$listed"

# The reference: the export's own SELECT in sqlite3, every row printed as text.
sql=$("$plughole" export dnsbl --sql)
reference_run() {
	sqlite3 -list "$db" ".param set ?1 'open-relay'" ".param set ?2 'open-proxy-mail'" \
		".param set ?3 'open-proxy-web'" "$sql" > "$tmp/reference.txt"
}
reference_run # warms the cache
reference_rows=$(wc -l < "$tmp/reference.txt")
reference=$(best_of_3 reference_run)

echo
if "$plughole" help report > /dev/null 2>&1; then
	line "report (terminal)" "$(best_of_3 "$plughole" -q --db "$db" report "$name")" "$report_target"
	line "report --json" "$(best_of_3 "$plughole" -q --db "$db" report "$name" --json "$tmp/report.json")" \
		"$report_target"
	line "report --html" "$(best_of_3 "$plughole" -q --db "$db" report "$name" --html "$tmp/report.html")" \
		"$report_target"
else
	echo "report: this plughole has no 'report' verb yet: skipped"
fi
for format in rbldnsd bind; do
	t=$(best_of_3 "$plughole" -q --db "$db" export dnsbl --format "$format" --output "$tmp/zone.$format")
	line "export dnsbl --format $format" "$t" "$export_target"
	[ "$t" = failed ] && continue
	entries=$(grep -c ':127.0.0.2:\|IN	A	127.0.0.2' "$tmp/zone.$format")
	printf "%-28s %7.2f x sqlite3 (%s entries, %.0f MB)\n" "" "$(echo "$t / $reference" | bc -l)" "$entries" \
		"$(echo "$(stat -c %s "$tmp/zone.$format") / 1000000" | bc -l)"
done
line "sqlite3 .mode list, same rows" "$reference" -
echo "                             ($reference_rows rows)"
