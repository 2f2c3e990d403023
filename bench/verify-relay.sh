#!/usr/bin/env bash
# Relay verification benchmark against plughole-lab: 100,000 hosts with a
# realistic mix (most closed or silent, a few percent open) and 50 ms added
# latency per reply. Prints hosts/s, peak RSS, heap bytes per connection in
# flight, peak connections, wrong verdicts against the lab's truth, and a time
# ratio against nmap's smtp-open-relay on the first 1,000 hosts.
# BENCH_RATE sets new connections per second: the lab shares this machine's
# cores with the verifier, so a rate above what both can serve turns replies
# late and closed hosts into timeouts.
# All traffic stays on 127.0.0.0/8: lab hosts 127.21.0.0/16 and 127.22.0.0/16,
# the verifier's sink 127.0.43.1 (BENCH_NETS, two blocks, and BENCH_SINK move
# them). BENCH_PLUGHOLE names another verifier binary (a paired run against an
# older build, the same lab); BENCH_NMAP_HOSTS=0 skips nmap.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole="${BENCH_PLUGHOLE:-$build/plughole}" lab="$build/plughole-lab"
hosts=${BENCH_HOSTS:-100000} nmap_hosts=${BENCH_NMAP_HOSTS:-1000}
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
SINK=${BENCH_SINK:-127.0.43.1:2543}
read -r NET1 NET2 <<<"${BENCH_NETS:-127.21.0.0/16 127.22.0.0/16}"
MIX="closed=55,silent=14,reset=4,garbage=3,http=2,open=3,percent=1,drop=3,greylist=2,starttls=1,helo-only=1,tempfail=2,endless=1"

ulimit -n "$(ulimit -Hn)"
"$lab" --port 0 --hosts "$NET1" --hosts "$NET2" --mix "$MIX" --latency 50 \
  --sink "$SINK" --sink-domain sink.test --greylist-delay 2 --tarpit-delay 60 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
for _ in $(seq 100); do grep -q '^listening ' "$tmp/lab.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening 0\.0\.0\.0:\([0-9]*\)$/\1/p' "$tmp/lab.out" | head -n 1)
"$lab" --truth --hosts "$NET1" --hosts "$NET2" --mix "$MIX" >"$tmp/truth-all"
head -n "$hosts" "$tmp/truth-all" >"$tmp/truth"
awk -F'\t' -v p="$port" '{ print $1 ":" p }' "$tmp/truth" >"$tmp/candidates"
"$plughole" -q --db "$tmp/db" ingest --allow-loopback "$tmp/candidates" >/dev/null

python3 - "$plughole" "$tmp" "$SINK" <<'PY'
import os, resource, subprocess, sys, time
plughole, tmp, sink = sys.argv[1:]
t = time.monotonic()
open(f"{tmp}/started", "w").write(f"{time.time()}\n")
cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
out = subprocess.run([plughole, "--db", f"{tmp}/db", "verify", "--tests", "relay", "--allow-loopback", "--sink", sink,
                      "--sink-domain", "sink.test", "--helo", "verifier.test", "--per-net", "1000000",
                      "--rate", os.environ.get("BENCH_RATE", "3000"),
                      "--connect-timeout", "5", "--timeout", "5", "--total-timeout", "60",
                      "--retries", "1", "--retry-after", "2.5", "--proof-grace", "0.5", "--wait", "3"],
                     check=True, capture_output=True, text=True)
dt = time.monotonic() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss / 1024
cpu = usage.ru_utime + usage.ru_stime - cpu0.ru_utime - cpu0.ru_stime
open(f"{tmp}/verify.out", "w").write(out.stdout)
open(f"{tmp}/elapsed", "w").write(f"{dt}\n")
print(out.stdout.strip())
hosts = int(out.stdout.split()[1])
print(f"wall time {dt:.1f} s, peak RSS {rss:.0f} MiB, verifier CPU {cpu:.1f} s = {cpu / hosts * 1e6:.0f} us per host"
      f" ({hosts / cpu:,.0f} hosts per CPU-second; the lab runs on the same 2 cores)")
PY
"$plughole" --db "$tmp/db" findings | awk -F'\t' 'NR > 1 { print $1 "\t" $3 }' | sort >"$tmp/got"
awk -F'\t' '{ print $1 "\t" $3 }' "$tmp/truth" | sort >"$tmp/want"
wrong=$(comm -3 "$tmp/got" "$tmp/want" | grep -c . || true)
elapsed=$(cat "$tmp/elapsed")
rate=$(python3 -c "print(f'{$hosts / $elapsed:.0f}')")
echo "plughole: $hosts hosts in ${elapsed%.*} s = $rate hosts/s; wrong verdicts: $((wrong / 2))"
# The run's shape: most hosts finish while connections start; the rest wait
# out timeouts, retries and the final wait for proofs, whatever the run's size.
p90=$(sqlite3 "$tmp/db" "select last_checked from findings order by last_checked limit 1 offset $((hosts * 9 / 10 - 1))")
python3 -c "import sys; s = float(open('$tmp/started').read()); d = $p90 + 1 - s; n = $hosts * 9 // 10
print(f'  90 % of the hosts ({n}) done after {d:.0f} s = {n / d:.0f} hosts/s; the rest wait out timeouts and retries')"
comm -3 "$tmp/got" "$tmp/want" | head -6

if [ "$nmap_hosts" -gt 0 ] && command -v nmap >/dev/null; then
  # nmap runs smtp-open-relay only on the SMTP ports: a second lab on 587.
  "$lab" --port 587 --hosts "$NET1" --hosts "$NET2" --mix "$MIX" --latency 50 \
    --sink "$SINK" --sink-domain sink.test --greylist-delay 2 --tarpit-delay 60 \
    >"$tmp/lab587.out" 2>"$tmp/lab587.err" & pids+=($!)
  for _ in $(seq 100); do grep -q '^listening ' "$tmp/lab587.out" && break; sleep 0.1; done
  port=587
  head -n "$nmap_hosts" "$tmp/truth" | cut -f1 >"$tmp/nmap-hosts"
  t0=$(date +%s.%N)
  nmap -Pn -n -sT -p "$port" --dns-servers 127.0.43.53 -iL "$tmp/nmap-hosts" --script smtp-open-relay \
    --script-args "smtp-open-relay.domain=verifier.test,smtp-open-relay.to=relaytest@sink.test,smtp-open-relay.from=relaytest@verifier.test" \
    -oN "$tmp/nmap.txt" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  python3 - "$t0" "$t1" "$nmap_hosts" "$rate" "$(grep -c 'Server is an open relay' "$tmp/nmap.txt" || true)" <<'PY'
import sys
t0, t1, n, rate, found = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
nrate = n / (t1 - t0)
print(f"nmap smtp-open-relay: {n} hosts in {t1 - t0:.1f} s = {nrate:.1f} hosts/s ({found} reported open, unproven)")
print(f"plughole / nmap hosts per second: {rate / nrate:.0f}x")
PY
fi
