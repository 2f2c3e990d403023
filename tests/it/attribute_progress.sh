#!/usr/bin/env bash
# attribute load and attribute show progress on a terminal (a pty from
# script(1)): a progress line that ends complete, and the load's warnings
# (malformed objects, FILE:LINE) each on a line of its own, never on the
# progress line (issue 15). No network: registry fixtures and a store.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
FIX="${PLUGHOLE_SRC:?set by ctest}/tests/fixtures/attrib"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v script >/dev/null || fail "script (util-linux) is needed"
cp "$FIX/test.db.inetnum" "$FIX/test.db.organisation" "$FIX/test.db.role" "$tmp/"
cd "$tmp"

# on_pty FILE CMD...: CMD with stderr on a pty, what the terminal got into FILE (stdout elsewhere).
on_pty() {
  local out=$1; shift
  script -q -e -c "$(printf '%q ' "$@") 2>&1 >/dev/null" /dev/null >"$out" </dev/null
}
# The lines a terminal shows: \r returns, ESC[K clears to the end, \n ends a line.
screen() {
  python3 - "$1" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
screen, line, col, i = [], [], 0, 0
while i < len(raw):
    if raw.startswith("\x1b[K", i):
        del line[col:]; i += 3; continue
    c = raw[i]
    if c == "\r": col = 0
    elif c == "\n": screen.append("".join(line)); line, col = [], 0
    else:
        if col < len(line): line[col] = c
        else: line.append(c)
        col += 1
    i += 1
screen.append("".join(line))
print("\n".join(l for l in screen if l))
PY
}

on_pty load.raw "$PLUGHOLE" --db store.db attribute load test.db.inetnum test.db.organisation test.db.role
shown=$(screen load.raw)
echo "$shown"
assert_contains "$shown" "attribute load: test.db.inetnum: 0.0 of 0.0 MB (100 %)"
assert_contains "$shown" "plughole: warning: test.db.inetnum:71:"
while IFS= read -r line; do
  case $line in
    *"attribute load:"*plughole:* | *plughole:*"attribute load:"*) fail "a log line on the progress line: $line" ;;
    *plughole:*) [ "${line#plughole: }" != "$line" ] || fail "a log line after other text: $line" ;;
  esac
done <<<"$shown"

sqlite3 store.db <<'SQL'
INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
 (1, '192.0.2.10', 25, 4, 0, 0), (2, '192.0.2.130', 25, 4, 0, 0);
INSERT INTO findings(candidate_id, verdict) VALUES (1, 'open-relay'), (2, 'closed');
SQL
on_pty attr.raw "$PLUGHOLE" --db store.db attribute
shown=$(screen attr.raw)
echo "$shown"
assert_contains "$shown" "attribute: 2/2 findings"
echo "ok: attribute load and attribute draw their progress on a terminal, log lines apart"
