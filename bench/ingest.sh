#!/usr/bin/env bash
# Ingest benchmark: 1,000,000 addresses sorted and the same addresses in
# random order (as ZMap and masscan write them), side by side with the ratio
# random/sorted (target: under 1.5), and a 100-MB rbldnsd zone streamed
# through in bounded memory (peak RSS printed).
# Ingest sends no traffic; the addresses are only stored.
set -euo pipefail
build=${1:-build}
plughole=$(cd "$build" && pwd)/plughole
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" <<'PY'
import random, sys
d = sys.argv[1]
addresses = [f"11.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(1_000_000)]  # distinct, in 11.0.0.0/8
with open(f"{d}/sorted.txt", "w") as f:
    f.writelines(addresses)
random.Random(15).shuffle(addresses)  # a fixed seed: the same order every run
with open(f"{d}/random.txt", "w") as f:
    f.writelines(addresses)
with open(f"{d}/zone.rbldnsd", "w") as f:   # ~100 MB of a DNSBL dump: each host listed once, with its text
    f.write("$TTL 3600\n:127.0.0.2:Open proxy, see http://lists.example/\n")
    size, i = 0, 0
    while size < 100 * 1024 * 1024:
        line = f"{12 + (i >> 24)}.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} :127.0.0.2:listed 2004-01-{i % 28 + 1:02d}\n"
        f.write(line); size += len(line); i += 1
PY

python3 - "$plughole" "$tmp" <<'PY'
import resource, subprocess, sys, time, os
plughole, tmp = sys.argv[1:]

def run(label, path):  # wall time and peak RSS of one ingest into a fresh store
    lines = sum(1 for _ in open(path))
    mb = os.path.getsize(path) / 1e6
    t = time.monotonic()
    out = subprocess.run([plughole, "-q", "--db", f"{tmp}/db-{label}", "ingest", path],
                         check=True, capture_output=True, text=True).stdout
    dt = time.monotonic() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    print(f"{label}: {lines:,} lines, {mb:.1f} MB in {dt:.2f} s = {lines / dt:,.0f} lines/s, {mb / dt:.1f} MB/s, peak RSS {rss:.1f} MiB")
    print("   ", out.strip().splitlines()[0])
    return dt

sorted_s = run("sorted", f"{tmp}/sorted.txt")
random_s = run("random", f"{tmp}/random.txt")
print(f"random/sorted: {random_s / sorted_s:.2f}x (target under 1.5x)")
run("zone", f"{tmp}/zone.rbldnsd")
PY
