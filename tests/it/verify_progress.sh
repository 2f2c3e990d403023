#!/usr/bin/env bash
# verify's progress (issue 15): with stderr not a terminal, a status line every
# few seconds that names what the run waits for and until when (greylisting's
# retries, proof grace) with its ETA; on a
# terminal (a pty from script(1)), log lines never land on the progress line.
# Addresses: lab hosts 127.87.1.0/29 (greylisting and accept-and-drop relays),
# the verifier's sink 127.87.0.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp"/*.err >&2 || true; exit 1; }
export TZ=UTC
SINK=127.87.0.1:2587 DELAY=8 HOSTS=127.87.1.0/29 MIX=greylist=1,drop=1

"$LAB" --port 0 --hosts "$HOSTS" --mix "$MIX" --sink "$SINK" --sink-domain sink.test --greylist-delay "$DELAY" \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
"$LAB" --truth --hosts "$HOSTS" --mix "$MIX" | awk -v p="$port" '{ print $1 ":" p }' >"$tmp/targets"
mapfile -t targets <"$tmp/targets"
[ "${#targets[@]}" -gt 0 ] || fail "no lab hosts"

verify() {
  "$PLUGHOLE" --db "$1" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
    --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 30 --retry-after 1 \
    --retries 1 --proof-grace 1 --wait 3 "${targets[@]}"
}

# stderr a pipe: status lines, one every LOG_STATUS_INTERVAL (5) seconds.
t0=$(date +%s)
{ verify "$tmp/pipe.db" 2>&1 >"$tmp/pipe.out" | cat >"$tmp/pipe.err"; } || fail "verify failed"
cat "$tmp/pipe.out"
cat "$tmp/pipe.err"
grep -q 'open-relay  *2' "$tmp/pipe.out" || fail "the greylisting relays were not proven"
python3 - "$tmp/pipe.err" "$t0" "$DELAY" <<'PY' || fail "the status lines"
import re, sys, time
path, t0, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = [l for l in open(path) if re.match(r"plughole: verify: \d+/\d+ done", l)]
assert len(lines) >= 2, f"at least two status lines in a {delay}+ s run: {lines}"
grey = [l for l in lines if "(greylisting)" in l]
assert grey, "a status line names the greylisting retries"
for l in grey:
    m = re.search(r"(\d+) retr(?:y|ies) pending until (\d\d):(\d\d):(\d\d) \(greylisting\)", l)
    assert m and int(m.group(1)) == 2, f"two greylisted relays wait: {l}"
    day = t0 - t0 % 86400
    until = day + int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))
    # the lab names DELAY seconds; the retry waits that, one second more, from the first try
    assert t0 + delay <= until <= t0 + delay + 5, f"deadline {until - t0} s after the start: {l}"
# The ETA is never sooner than a deadline the same line names (it waits them out).
for l in lines:
    m = re.search(r"ETA (?:(\d+)m)?(\d+)s", l)
    assert m, f"an ETA: {l}"
for l in lines:
    assert "\r" not in l, "no carriage returns in a status line"
PY

# stderr a terminal: the progress line is redrawn in place; every log line
# (the start, the final wait for the dropped relays' proofs) gets its own line.
command -v script >/dev/null || fail "script (util-linux) is needed"
cmd="$(printf '%q ' "$PLUGHOLE" --db "$tmp/tty.db" verify --tests relay --allow-loopback --sink "$SINK" \
  --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 30 \
  --retry-after 1 --retries 1 --proof-grace 1 --wait 3 "${targets[@]}")"
script -q -e -c "$cmd 2>&1 >$(printf '%q' "$tmp/tty.out")" /dev/null >"$tmp/tty.raw" </dev/null || fail "verify on a pty"
python3 - "$tmp/tty.raw" <<'PY' || { cat -v "$tmp/tty.raw" >&2; fail "log lines and the progress line"; }
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# What a terminal shows: \r returns, ESC[K clears to the end, \n ends a line.
screen, line, col = [], [], 0
i = 0
while i < len(raw):
    c = raw[i]
    if raw.startswith("\x1b[K", i):
        del line[col:]; i += 3; continue
    if c == "\r": col = 0
    elif c == "\n": screen.append("".join(line)); line, col = [], 0
    else:
        if col < len(line): line[col] = c
        else: line.append(c)
        col += 1
    i += 1
screen.append("".join(line))
progress = [l for l in screen if re.search(r"verify: \d+/\d+ done", l)]
logs = [l for l in screen if "plughole: " in l]
assert progress, f"a progress line on the terminal: {screen}"
assert any("waiting up to" in l for l in logs), f"the final wait's log line: {screen}"
for l in screen:
    if re.search(r"verify: \d+/\d+ done", l):
        assert "plughole: " not in l, f"a log line on the progress line: {l!r}"
    if "plughole: " in l:
        assert l.startswith("plughole: "), f"a log line after other text: {l!r}"
assert re.search(r"verify: (\d+)/\1 done", progress[-1]), f"the last progress line stays, complete: {progress[-1]}"
PY
echo "ok: status lines name the greylisting and its deadline; log lines keep their own lines"
