# shellcheck shell=bash
# Helpers for tests that run plughole-lab.

# lab_ports OUT [N]: waits until the lab writing to OUT has printed N
# "listening 0.0.0.0:PORT" lines (default 1) and prints the first N ports.
lab_ports() {
	local out=$1 want=${2:-1}
	for _ in $(seq 1 100); do
		if [ "$(grep -c '^listening ' "$out" 2>/dev/null)" -ge "$want" ]; then
			awk -F: -v want="$want" '/^listening 0\.0\.0\.0:[0-9]+$/ && n++ < want { print $2 }' "$out"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
