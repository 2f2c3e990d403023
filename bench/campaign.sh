#!/usr/bin/env bash
# Campaign creation benchmark: a synthetic store of 100,000 proven open
# findings (each with its probe, its bound proof and its attribution) over
# 20,000 owners in 8 countries, then `campaign create --control 0.2`: every
# finding's proof binding checked, 20,000 owners frozen and drawn, 16,000
# letters with tickets and keys. Prints the time against the issue's budget
# (create and render every letter under 10 s; rendering is another step's).
# No network traffic.
#   bash bench/campaign.sh BUILD_DIR     (CAMPAIGN_FINDINGS=N CAMPAIGN_OWNERS=M for another size)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole=$build/plughole
findings=${CAMPAIGN_FINDINGS:-100000}
owners=${CAMPAIGN_OWNERS:-20000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-campaign.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/store.db
# shellcheck source=bench/lib/proven_findings.sh
. "$(dirname "$0")/lib/proven_findings.sh"

proven_findings "$plughole" "$db" "$findings" "$owners" 100 FTC

start=$(date +%s.%N)
"$plughole" --db "$db" campaign create bench --control 0.2 --seed 1 --domain campaign.test >"$tmp/out" 2>"$tmp/err"
end=$(date +%s.%N)
cat "$tmp/out"
letters=$(sqlite3 "$db" "select count(*) from letters")
printf 'campaign create: %d findings over %d owners, %d letters in %.2f s (budget for create and render: 10 s)\n' \
	"$findings" "$owners" "$letters" "$(echo "$end - $start" | bc -l)"
