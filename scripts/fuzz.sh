#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (tests/fuzz/fuzz_parsers.c) with
# libFuzzer: builds with clang into build-fuzz, seeds a corpus from the seed
# files (each under every parser) and runs for SECONDS (default 300).
# Crashes land in build-fuzz/crashes; replay one with
#   build-fuzz/tests/fuzz_parsers build-fuzz/crashes/crash-...
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
command -v clang >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLUGHOLE_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_parsers
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/crashes
for seed in tests/fuzz/seeds/* tests/fixtures/attrib/test.db.* tests/fixtures/attrib/*-test* \
	tests/fixtures/attrib/rdap/*.json data/rdap/*.json; do
	# every parser: the first byte picks parsers[byte % count]; 16 covers today's 13 (some twice)
	for parser in $(seq 0 15); do
		{ printf "\\$(printf %o "$parser")"; head -c 65536 "$seed"; } >"$corpus/$(basename "$seed").$parser"
	done
done
build-fuzz/tests/fuzz_parsers -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix=build-fuzz/crashes/ "$corpus"
