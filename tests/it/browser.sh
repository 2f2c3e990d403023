#!/usr/bin/env bash
# The headless-Chromium harness (tests/it/lib/browser.mjs) on tiny local pages:
# a drawn page passes 'shot' (also at 375 px); a blank page, a console error,
# a missing image and a request beyond a self-contained file each fail it;
# 'run' fills, clicks, submits a form over HTTP (tests/it/lib/http_server.py
# on 127.82.1.1) and reads text; check-png tells a drawn PNG from a blank one.
# Addresses: 127.82.1.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
B="$(dirname "$0")/lib/browser.mjs"
LIB="$(dirname "$0")/lib"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
status_of() { local s=0; "$@" >"$tmp/status.out" 2>"$tmp/status.err" || s=$?; echo "$s"; }

cat >"$tmp/drawn.html" <<'HTML'
<!doctype html><meta name="viewport" content="width=device-width"><title>drawn</title>
<h1 id="h">Hello</h1><svg width="300" height="200"><rect width="300" height="200" fill="#c33"/></svg>
<input id="n"><button id="b" type="button" onclick="document.getElementById('h').textContent='clicked '+document.getElementById('n').value">go</button>
HTML
echo '<!doctype html><body style="background:#fff"></body>' >"$tmp/blank.html"
echo '<!doctype html><h1>x</h1><svg width="300" height="200"><rect width="300" height="200"/></svg><script>console.error("boom")</script>' >"$tmp/console.html"
echo '<!doctype html><svg width="300" height="200"><rect width="300" height="200"/></svg><img src="missing.png">' >"$tmp/missing.html"
echo '<!doctype html><svg width="300" height="200"><rect width="300" height="200"/></svg><img src="drawn.png">' >"$tmp/external.html"

assert_eq "$(status_of node "$B" shot "$tmp/drawn.html" "$tmp/drawn.png" --self-contained)" 0 "a drawn page"
assert_eq "$(status_of node "$B" check-png "$tmp/drawn.png")" 0 "its screenshot is drawn"
assert_eq "$(status_of node "$B" shot "$tmp/drawn.html" "$tmp/narrow.png" --width 375 --height 700)" 0 "at 375 px"
python3 - "$tmp/narrow.png" <<'PY'
import struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
assert (w, h) == (375, 700), (w, h)
PY

assert_eq "$(status_of node "$B" shot "$tmp/blank.html" "$tmp/blank.png")" 1 "a blank page"
assert_contains "$(cat "$tmp/status.err")" "blank: one colour"
assert_eq "$(status_of node "$B" check-png "$tmp/blank.png")" 1 "a blank PNG"
assert_eq "$(status_of node "$B" shot "$tmp/console.html" "$tmp/c.png")" 1 "a console error"
assert_contains "$(cat "$tmp/status.err")" "console error: boom"
assert_eq "$(status_of node "$B" shot "$tmp/missing.html" "$tmp/m.png")" 1 "a missing image"
assert_contains "$(cat "$tmp/status.err")" "failed request: file://$tmp/missing.png"
cp "$tmp/drawn.png" "$tmp/external.png"; sed -i 's/drawn.png/external.png/' "$tmp/external.html"
assert_eq "$(status_of node "$B" shot "$tmp/external.html" "$tmp/e.png")" 0 "an image that loads"
assert_eq "$(status_of node "$B" shot "$tmp/external.html" "$tmp/e.png" --self-contained)" 1 "not self-contained"
assert_contains "$(cat "$tmp/status.err")" "request beyond the document: file://$tmp/external.png"
assert_eq "$(status_of node "$B" shot)" 2 "a missing operand"
assert_eq "$(status_of node "$B" shot "$tmp/drawn.html" "$tmp/x.png" --width)" 2 "an option without value"

# Click and read.
echo '[{"fill": "#n", "value": "abc"}, {"click": "#b"}, {"text": "#h", "expect": "clicked abc"}]' >"$tmp/click.json"
assert_eq "$(status_of node "$B" run "$tmp/drawn.html" "$tmp/click.json")" 0 "fill, click, read"
assert_eq "$(cat "$tmp/status.out")" "clicked abc"
echo '[{"text": "#h", "expect": "clicked"}]' >"$tmp/noclick.json"
assert_eq "$(status_of node "$B" run "$tmp/drawn.html" "$tmp/noclick.json")" 1 "text not there"

# A form submitted over HTTP: the next page shows what was sent.
mkdir "$tmp/www"
cat >"$tmp/www/form.html" <<'HTML'
<!doctype html><form id="f" action="result.html" method="get"><input id="n" name="n"><button>send</button></form>
HTML
cat >"$tmp/www/result.html" <<'HTML'
<!doctype html><p id="r"></p><script>document.getElementById('r').textContent='got '+new URLSearchParams(location.search).get('n')</script>
HTML
python3 "$LIB/http_server.py" --listen 127.82.1.1:8082 --dir "$tmp/www" 2>"$tmp/http.err" & pids+=($!)
for _ in $(seq 50); do python3 -c 'import socket; socket.create_connection(("127.82.1.1", 8082), 1)' 2>/dev/null && break; sleep 0.1; done
echo '[{"fill": "#n", "value": "x y"}, {"submit": "#f"}, {"text": "#r", "expect": "got x y"}]' >"$tmp/form.json"
assert_eq "$(status_of node "$B" run http://127.82.1.1:8082/form.html "$tmp/form.json")" 0 "form submitted"
assert_eq "$(cat "$tmp/status.out")" "got x y"
echo ok
