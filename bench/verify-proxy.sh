#!/usr/bin/env bash
# Proxy verification benchmark against plughole-lab: 100,000 proxy hosts (a
# mix of the lab's proxy behaviours: most refusing, blocking or silent, a few
# percent open) on proxy ports (HTTP ones on 8000, SOCKS ones on 9050,
# gateways on 23, hostile peers spread over the three), 50 ms added latency
# per reply. Prints hosts/s, peak RSS, heap bytes per connection in flight,
# peak connections, wrong verdicts against the lab's truth (must be 0), and a
# time ratio against nmap's http-open-proxy and socks-open-proxy scripts on
# the first 1,000 hosts, pointed at a loopback target page.
# All traffic stays on 127.0.0.0/8: lab hosts 127.23.0.0/16 and 127.24.0.0/16,
# the verifier's sink 127.0.45.31 (SMTP 2571, target 8071), nmap's target page
# 127.0.45.32:8072, nmap's (silent) DNS server 127.0.45.53 (BENCH_NETS, two
# blocks, BENCH_SINK and BENCH_TARGET move the lab and the sink).
# BENCH_PLUGHOLE names another verifier binary (a paired run against an older
# build, the same lab); BENCH_NMAP_HOSTS=0 skips nmap.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole="${BENCH_PLUGHOLE:-$build/plughole}" lab="$build/plughole-lab"
hosts=${BENCH_HOSTS:-100000} nmap_hosts=${BENCH_NMAP_HOSTS:-1000}
tmp=$(mktemp -d); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
SINK=${BENCH_SINK:-127.0.45.31:2571} TARGET=${BENCH_TARGET:-127.0.45.31:8071} NMAP_TARGET=127.0.45.32:8072
read -r NET1 NET2 <<<"${BENCH_NETS:-127.23.0.0/16 127.24.0.0/16}"
HTTP_PORT=8000 SOCKS_PORT=9050 GATEWAY_PORT=23
MIX="http-connect-open=2,http-connect-443=1,http-post=1,http-get=1,socks4-open=1,socks5-open=1,wingate=0.5,router=0.5"
MIX="$MIX,socks5-auth=15,socks5-refuse=10,block-page=20,http-slow=2,proxy-garbage=10,proxy-silent=20"

ulimit -n "$(ulimit -Hn)"
"$lab" --port "$HTTP_PORT" --port "$SOCKS_PORT" --port "$GATEWAY_PORT" --hosts "$NET1" --hosts "$NET2" \
  --mix "$MIX" --latency 50 --sink "$SINK" --sink-domain sink.test --web-port "${TARGET##*:}" \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
for _ in $(seq 100); do [ "$(grep -c '^listening ' "$tmp/lab.out")" -ge 3 ] && break; sleep 0.1; done
[ "$(grep -c '^listening ' "$tmp/lab.out")" -ge 3 ] || { cat "$tmp/lab.err" >&2; echo "the lab did not start" >&2; exit 1; }
"$lab" --truth --hosts "$NET1" --hosts "$NET2" --mix "$MIX" >"$tmp/truth-all"
head -n "$hosts" "$tmp/truth-all" >"$tmp/truth"
# Each host on the port of its protocol family, as a feed of proxies would list it.
awk -F'\t' -v h="$HTTP_PORT" -v s="$SOCKS_PORT" -v g="$GATEWAY_PORT" '{
  if ($2 ~ /^socks/) p = s; else if ($2 == "wingate" || $2 == "router") p = g
  else if ($2 ~ /^proxy-/) p = (NR % 3 == 0) ? h : (NR % 3 == 1) ? s : g; else p = h
  print $1 ":" p }' "$tmp/truth" >"$tmp/candidates"
"$plughole" -q --db "$tmp/db" ingest --allow-loopback "$tmp/candidates" >/dev/null
# The in-process sink takes every tunnel that reaches it at once.
printf '[sink]\nmax_sessions = 20000\n' >"$tmp/plughole.conf"

python3 - "$plughole" "$tmp" "$SINK" "$TARGET" <<'PY'
import os, resource, subprocess, sys, time
plughole, tmp, sink, target = sys.argv[1:]
t = time.monotonic()
out = subprocess.run([plughole, "--config", f"{tmp}/plughole.conf", "--db", f"{tmp}/db", "verify",
                      "--tests", "proxy", "--allow-loopback", "--sink", sink, "--target", target,
                      "--sink-domain", "sink.test", "--helo", "verifier.test", "--per-net", "1000000",
                      "--concurrency", os.environ.get("BENCH_CONCURRENCY", "16000"), "--rate", os.environ.get("BENCH_RATE", "8000"),
                      "--connect-timeout", "5", "--timeout", "5",
                      "--total-timeout", "60", "--retries", "1", "--retry-after", "2.5", "--proof-grace", "1",
                      "--wait", "2"], check=True, capture_output=True, text=True)
dt = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
open(f"{tmp}/elapsed", "w").write(f"{dt}\n")
print(out.stdout.strip())
print(f"wall time {dt:.1f} s, peak RSS {rss:.0f} MiB")
PY
"$plughole" --db "$tmp/db" findings | awk -F'\t' 'NR > 1 { print $1 "\t" $3 }' | sort >"$tmp/got"
awk -F'\t' '{ print $1 "\t" $3 }' "$tmp/truth" | sort >"$tmp/want"
wrong=$(comm -3 "$tmp/got" "$tmp/want" | grep -c . || true)
elapsed=$(cat "$tmp/elapsed")
rate=$(python3 -c "print(f'{$hosts / $elapsed:.0f}')")
echo "plughole: $hosts hosts in ${elapsed%.*} s = $rate hosts/s; wrong verdicts: $((wrong / 2))"
# Wrong ones by behaviour: what the lab plays, what it promises, what we said.
join -t$'\t' <(cut -f1,2 "$tmp/truth" | sort) <(join -t$'\t' "$tmp/want" "$tmp/got") |
  awk -F'\t' '$3 != $4 { n[$2 " " $3 " -> " $4]++ } END { for (k in n) print "  wrong: " k ": " n[k] }'
awk -F'\t' '{ n[$2]++ } END { for (v in n) printf "  truth %-16s %d\n", v, n[v] }' "$tmp/truth" | sort

if [ "$nmap_hosts" -gt 0 ] && command -v nmap >/dev/null; then
  # nmap's scripts fetch a page through each proxy: our own target page, on loopback.
  "$plughole" --db "$tmp/nmap-target.db" sink --listen 127.0.45.32:2572 --domain sink.test --target "$NMAP_TARGET" \
    >/dev/null 2>"$tmp/nmap-target.err" & pids+=($!)
  for _ in $(seq 100); do grep -q '(target)' "$tmp/nmap-target.err" && break; sleep 0.1; done
  head -n "$nmap_hosts" "$tmp/candidates" >"$tmp/nmap-candidates"
  t0=$(date +%s.%N)
  for p in "$HTTP_PORT" "$SOCKS_PORT" "$GATEWAY_PORT"; do
    grep ":$p\$" "$tmp/nmap-candidates" | cut -d: -f1 >"$tmp/nmap-hosts-$p" || true
    [ -s "$tmp/nmap-hosts-$p" ] || continue
    nmap -Pn -n -sT -p "$p" --dns-servers 127.0.45.53 -iL "$tmp/nmap-hosts-$p" \
      --script http-open-proxy,socks-open-proxy \
      --script-args "proxy.url=http://$NMAP_TARGET/,proxy.pattern=plughole-target" \
      -oX "$tmp/nmap-$p.xml" >/dev/null 2>&1 || true
  done
  t1=$(date +%s.%N)
  # What nmap calls open, against the truth: it has no proof, so block pages pass.
  python3 - "$t0" "$t1" "$nmap_hosts" "$rate" "$tmp" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
t0, t1, n, rate, tmp = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
truth = {}
for line in open(f"{tmp}/truth"):
    f = line.rstrip("\n").split("\t")
    truth[f[0]] = f[2]
first = [line.split(":")[0] for line in open(f"{tmp}/nmap-candidates")]
said = set()
for path in glob.glob(f"{tmp}/nmap-*.xml"):
    for host in ET.parse(path).getroot().iter("host"):
        address = host.find("address").get("addr")
        if any("open proxy" in (s.get("output") or "").lower() for s in host.iter("script")):
            said.add(address)
really = {a for a in first if truth[a].startswith("open-proxy")}
nrate = n / (t1 - t0)
print(f"nmap http-open-proxy,socks-open-proxy: {n} hosts in {t1 - t0:.1f} s = {nrate:.1f} hosts/s; "
      f"reported open {len(said)}: {len(said & really)} open, {len(said - really)} not open (no proof), "
      f"{len(really - said)} open ones missed")
print(f"plughole / nmap hosts per second: {rate / nrate:.0f}x")
PY
fi
