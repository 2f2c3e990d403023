#!/usr/bin/env bash
# Attribution benchmark: a synthetic RPSL inetnum dump of 4,000,000 objects
# (about the size of RIPE's), loaded into a fresh store; then the index read
# back from the store and 10,000,000 random addresses looked up.
# Prints: load time and MB/s against `cat FILE > /dev/null` on the same file,
# index memory per range, lookups/s on one core; and the targets (load >= 25%
# of cat's throughput, >= 5,000,000 lookups/s, <= 64 bytes per range plus
# strings). No network traffic.
#   bash bench/attribute.sh BUILD_DIR     (ATTRIBUTE_OBJECTS=N for another size)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole=$build/plughole
generate=$build/bench/bench-attribute_gen
lookup=$build/bench/bench-attribute_lookup
objects=${ATTRIBUTE_OBJECTS:-4000000}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-attribute.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dump=$tmp/ripe.db.inetnum

seconds() { # runs a command, prints its wall time in seconds
	local start end
	start=$(date +%s.%N)
	"$@"
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

echo "generating $objects objects..."
"$generate" "$objects" "$dump" 2>/dev/null
bytes=$(stat -c %s "$dump")
mb=$(echo "$bytes / 1000000" | bc -l)
printf "dump: %.0f MB, %d objects (%s)\n" "$mb" "$objects" "$(sed -n '8,9p' "$dump" | tr -s ' ' | tr '\n' ' ')"

# The reference: the best of three warm reads.
cat "$dump" > /dev/null
best_cat=
for _ in 1 2 3; do
	t=$(seconds sh -c "cat '$dump' > /dev/null")
	if [ -z "$best_cat" ] || [ "$(echo "$t < $best_cat" | bc -l)" = 1 ]; then best_cat=$t; fi
done
cat_mbs=$(echo "$mb / $best_cat" | bc -l)
# Finding the lines alone, parsing nothing (one core): part of any load's floor.
wc_s=$(seconds sh -c "wc -l < '$dump' > /dev/null")

load_out=$tmp/load.out
start=$(date +%s.%N)
"$plughole" --db "$tmp/store.db" attribute load "$dump" > "$load_out"
load_s=$(echo "$(date +%s.%N) - $start" | bc -l)
load_mbs=$(echo "$mb / $load_s" | bc -l)
ratio=$(echo "100 * $load_mbs / $cat_mbs" | bc -l)
parse_s=$(sed -n 's/.*parse \([0-9.]*\) s, store.*/\1/p' "$load_out")
store_s=$(sed -n 's/.*store \([0-9.]*\) s).*/\1/p' "$load_out")
printf "cat:   %6.2f s  %8.0f MB/s\n" "$best_cat" "$cat_mbs"
printf "load:  %6.2f s  %8.0f MB/s = %.1f%% of cat (parse %.2f s = %.0f MB/s on %d cores; store %.2f s)\n" \
	"$load_s" "$load_mbs" "$ratio" "$parse_s" "$(echo "$mb / $parse_s" | bc -l)" "$(nproc)" "$store_s"
store_mb=$(echo "$(stat -c %s "$tmp/store.db") / 1000000" | bc -l)
printf "store: %.0f MB on disk\n" "$store_mb"
# What this machine allows: writing as many bytes as the store holds to a new
# file beside it (no parsing at all) against the time 25% of cat's speed leaves.
write_s=$(seconds dd if=/dev/zero of="$tmp/floor" bs=1000000 count=$(($(stat -c %s "$tmp/store.db") / 1000000 + 1)) conv=fdatasync status=none)
rm -f "$tmp/floor"
printf "floor: writing %.0f MB to a new file here takes %.2f s (%.0f MB/s), counting the dump's lines %.2f s on one core;\n" \
	"$store_mb" "$write_s" "$(echo "$store_mb / $write_s" | bc -l)" "$wc_s"
printf "       load at 25%% of cat must take <= %.2f s in all\n" "$(echo "$mb / ($cat_mbs / 4)" | bc -l)"

PLUGHOLE_DATA=$src/data "$lookup" "$tmp/store.db" 10000000 1000000 | tee "$tmp/lookup.out"

per_range=$(sed -n 's/.*(\([0-9.]*\) bytes per range: entries.*/\1/p' "$tmp/lookup.out")
lookups=$(sed -n 's/.*populated \/8s: \([0-9.]*\) M lookups\/s.*/\1/p' "$tmp/lookup.out")
verdict() { [ "$1" = 1 ] && echo met || echo MISSED; }
echo "targets:"
printf "  load >= 25%% of cat:      %5.1f%%  %s\n" "$ratio" "$(verdict "$(echo "$ratio >= 25" | bc -l)")"
printf "  >= 5 M lookups/s:         %5.2f M  %s\n" "$lookups" "$(verdict "$(echo "$lookups >= 5" | bc -l)")"
printf "  <= 64 bytes per range:    %5.1f    %s\n" "$per_range" "$(verdict "$(echo "$per_range <= 64" | bc -l)")"
