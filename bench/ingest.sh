#!/usr/bin/env bash
# Ingest benchmark: a 1,000,000-line address list (target: under 10 s) and a
# 100-MB rbldnsd zone streamed through in bounded memory (peak RSS printed).
# Ingest sends no traffic; the addresses are only stored.
set -euo pipefail
build=${1:-build}
plughole=$(cd "$build" && pwd)/plughole
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
with open(f"{d}/list.txt", "w") as f:       # 1,000,000 distinct addresses in 11.0.0.0/8
    for i in range(1_000_000):
        f.write(f"11.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
with open(f"{d}/zone.rbldnsd", "w") as f:   # ~100 MB of a DNSBL dump: each host listed once, with its text
    f.write("$TTL 3600\n:127.0.0.2:Open proxy, see http://lists.example/\n")
    size, i = 0, 0
    while size < 100 * 1024 * 1024:
        line = f"{12 + (i >> 24)}.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} :127.0.0.2:listed 2004-01-{i % 28 + 1:02d}\n"
        f.write(line); size += len(line); i += 1
PY

run() { # label file...: prints wall time and peak RSS of one ingest
  python3 - "$plughole" "$tmp/db-$1" "$@" <<'PY'
import resource, subprocess, sys, time, os
plughole, db, label, *files = sys.argv[1:]
lines = sum(1 for f in files for _ in open(f))
mb = sum(os.path.getsize(f) for f in files) / 1e6
t = time.monotonic()
out = subprocess.run([plughole, "-q", "--db", db, "ingest", *files], check=True, capture_output=True, text=True).stdout
dt = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{label}: {lines:,} lines, {mb:.1f} MB in {dt:.2f} s = {lines / dt:,.0f} lines/s, {mb / dt:.1f} MB/s, peak RSS {rss:.1f} MiB")
print("   ", out.strip().splitlines()[0])
PY
}
run list "$tmp/list.txt"
run zone "$tmp/zone.rbldnsd"
