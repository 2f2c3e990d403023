#!/usr/bin/env bash
# plughole report on a real campaign (letters_store.sh: synthetic proven
# findings, a real `campaign create` with a control group) and recheck rounds
# written with SQL (report_store.sh). Checks: every count against SQL over
# campaign_round_outcomes, written here independently (hosts per outcome and
# group, owners remediated by the report's definition, owners per letter
# outcome); every rate, interval, difference and test recomputed from its
# counts; the HTML's numbers are all in the JSON (and shown as they are); the
# CSV's rows equal the JSON's; peer text (software, AS names) escaped; the HTML
# in headless Chromium (tests/it/lib/browser.mjs): drawn, no console error, no
# failed or outside request, at 1024 px and fitting a 375 px phone; a campaign
# without rounds; a missing campaign (1), a missing NAME (2), an unwritable
# file (1, nothing left behind). No network traffic.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/letters_store.sh"
. "$(dirname "$0")/lib/report_store.sh"
B="$(dirname "$0")/lib/browser.mjs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export PLUGHOLE_DB="$tmp/db"
ph() { "${PLUGHOLE:?}" "$@"; }
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
status_of() { local s=0; "$@" >"$tmp/status.out" 2>"$tmp/status.err" || s=$?; echo "$s"; }

letters_findings "$PLUGHOLE_DB" 60 2
# Peer text with markup: a software banner and an AS name.
q "UPDATE findings SET software = '<img src=x onerror=alert(1)>&Co' WHERE candidate_id IN (1, 2, 3);
   UPDATE attributions SET asn = 64501, as_name = '<b>AS \"Evil\"</b>' WHERE candidate_id <= 30;"
ph campaign create r1 --control 0.5 --seed 7 --domain campaign.test >/dev/null 2>&1 || fail "campaign create"
ph campaign create r0 --control 0.5 --seed 7 --domain campaign.test >/dev/null 2>&1 || fail "campaign create r0"
report_rounds "$PLUGHOLE_DB" r1 3

ph report r1 >"$tmp/summary.txt" || fail "report r1"
ph report r1 --html "$tmp/r.html" --json "$tmp/r.json" --csv "$tmp/r.csv" || fail "report r1 files"
[ ! -e "$tmp/r.html.tmp" ] || fail "a temporary file was left"

# The counts, by SQL over the view, written here independently of store_report.c.
cid=$(q "SELECT id FROM campaigns WHERE name = 'r1'")
q "SELECT v.seq, o.grp, v.outcome, count(*) FROM campaign_round_outcomes v
     JOIN campaign_owners o ON o.id = v.campaign_owner_id WHERE v.campaign_id = $cid GROUP BY 1, 2, 3" >"$tmp/hosts.sql"
q "SELECT seq, grp, outcome, count(*) FROM (SELECT v.seq, o.grp, CASE WHEN max(v.outcome = 'open') THEN 'open'
     WHEN max(v.outcome = 'changed') THEN 'changed' WHEN max(v.outcome = 'fixed') THEN 'fixed'
     WHEN max(v.outcome = 'inconclusive') THEN 'inconclusive' WHEN max(v.outcome = 'untested') THEN 'untested'
     ELSE 'gone' END AS outcome FROM campaign_round_outcomes v JOIN campaign_owners o ON o.id = v.campaign_owner_id
     WHERE v.campaign_id = $cid GROUP BY v.seq, v.campaign_owner_id) GROUP BY 1, 2, 3" >"$tmp/owner_outcomes.sql"
q "SELECT x.seq, o.grp, count(*), sum(x.still = 0 AND x.fixed = 1) FROM (
     SELECT seq, campaign_owner_id, max(outcome IN ('open', 'changed')) AS still, max(outcome = 'fixed') AS fixed
     FROM campaign_round_outcomes WHERE campaign_id = $cid GROUP BY 1, 2) x
     JOIN campaign_owners o ON o.id = x.campaign_owner_id GROUP BY 1, 2" >"$tmp/owners.sql"
# The data mixes outcomes within owners: fixed beside open, and fixed beside changed.
for other in open changed; do
  assert_eq "$(q "SELECT count(*) > 0 FROM (SELECT seq, campaign_owner_id FROM campaign_round_outcomes
    WHERE campaign_id = $cid GROUP BY 1, 2 HAVING max(outcome = 'fixed') AND max(outcome = '$other'))")" 1 "fixed beside $other"
done
q "SELECT CASE WHEN o.grp = 'control' THEN 'control (no letter)'
     WHEN EXISTS (SELECT 1 FROM letters l WHERE l.campaign_owner_id = o.id AND l.previous_id IS NULL AND l.state = 'sent'
       AND NOT EXISTS (SELECT 1 FROM letter_returns r WHERE r.letter_id = l.id AND r.kind = 'bounce')) THEN 'delivered'
     WHEN EXISTS (SELECT 1 FROM letters l WHERE l.campaign_owner_id = o.id AND l.previous_id IS NOT NULL
       AND l.state = 'sent') THEN 'bounced, then reached a fallback contact'
     ELSE 'never reached' END, count(*) FROM campaign_owners o WHERE o.campaign_id = $cid GROUP BY 1" >"$tmp/letters.sql"

python3 - "$tmp" <<'PY' || fail "the report's numbers"
import csv, json, math, re, sys
from html.parser import HTMLParser
tmp = sys.argv[1]
r = json.load(open(f"{tmp}/r.json"))
rounds = {x["seq"]: x for x in r["rounds"]}
assert sorted(rounds) == [1, 2, 3], sorted(rounds)
outcomes = ["open", "changed", "fixed", "gone", "inconclusive", "untested"]

# Hosts per outcome and group.
seen = {}
for line in open(f"{tmp}/hosts.sql"):
    seq, grp, outcome, n = line.strip().split("|")
    seen[(int(seq), grp, outcome)] = int(n)
for seq, rd in rounds.items():
    row = rd["host"]["all"][0]
    for grp in ("treatment", "control"):
        for o in outcomes:
            assert row[grp][o] == seen.get((seq, grp, o), 0), (seq, grp, o, row[grp][o], seen.get((seq, grp, o)))
        assert row[grp]["remediated"] == row[grp]["fixed"]
# Owners remediated: none open or changed, at least one fixed.
for line in open(f"{tmp}/owners.sql"):
    seq, grp, n, k = line.strip().split("|")
    cell = rounds[int(seq)]["owner"]["all"][0][grp]
    assert (cell["n"], cell["remediated"]) == (int(n), int(k)), (seq, grp, cell, n, k)
# Owners per outcome: the first of open, changed, fixed, inconclusive, untested, gone among their hosts'.
seen = {}
for line in open(f"{tmp}/owner_outcomes.sql"):
    seq, grp, outcome, n = line.strip().split("|")
    seen[(int(seq), grp, outcome)] = int(n)
for seq, rd in rounds.items():
    row = rd["owner"]["all"][0]
    for grp in ("treatment", "control"):
        for o in outcomes:
            assert row[grp][o] == seen.get((seq, grp, o), 0), (seq, grp, o, row[grp][o], seen.get((seq, grp, o)))
# The test data has hosts in every outcome, and owners open, fixed, gone and untested.
total = rounds[2]["host"]["all"][0]["total"]
assert all(total[o] > 0 for o in outcomes), total
total = rounds[2]["owner"]["all"][0]["total"]
assert all(total[o] > 0 for o in ("open", "fixed", "gone", "untested")), total
# Owners per letter outcome.
letters = {row["key"]: row for row in rounds[1]["owner"]["letter"]}
for line in open(f"{tmp}/letters.sql"):
    key, n = line.strip().rsplit("|", 1)
    assert letters[key]["total"]["n"] == int(n), (key, letters[key]["total"], n)
    assert letters[key]["total"]["n"] > 0, key

# Every statistic from its counts (stats.c's formulas: unit/test_report_stats checks them by hand).
z = 1.959963984540054
def wilson(k, n):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return p, (0 if k == 0 else max(0, c - h)), (1 if k == n else min(1, c + h))
def close(a, b): return abs(a - b) < 1e-12
def check_cell(c):
    if c["n"] == 0:
        assert c["rate"] is None and c["low"] is None and c["high"] is None, c
        return None
    p, lo, hi = wilson(c["remediated"], c["n"])
    assert close(c["rate"], p) and close(c["low"], lo) and close(c["high"], hi), c
    return p, lo, hi
rows = 0
for rd in r["rounds"]:
    for level in ("owner", "host"):
        for breakdown, keyed in rd[level].items():
            for row in keyed:
                rows += 1
                a, b = check_cell(row["treatment"]), check_cell(row["control"])
                check_cell(row["total"])
                assert row["total"]["n"] == row["treatment"]["n"] + row["control"]["n"]
                if a is None or b is None:
                    assert row["difference"] is None and row["test"] is None, row
                    continue
                d = row["difference"]
                assert close(d["value"], a[0] - b[0])
                assert close(d["low"], a[0] - b[0] - math.sqrt((a[0] - a[1]) ** 2 + (b[2] - b[0]) ** 2))
                assert close(d["high"], a[0] - b[0] + math.sqrt((a[2] - a[0]) ** 2 + (b[0] - b[1]) ** 2))
                ka, na = row["treatment"]["remediated"], row["treatment"]["n"]
                kb, nb = row["control"]["remediated"], row["control"]["n"]
                pooled = (ka + kb) / (na + nb)
                if pooled in (0, 1):
                    assert row["test"] is None, row
                    continue
                zz = (a[0] - b[0]) / math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
                assert close(row["test"]["z"], zz) and close(row["test"]["p"], math.erfc(abs(zz) / math.sqrt(2))), row
# Breakdowns: the keys, the escaped peer text among them, ASes and software.
keys = {b: [row["key"] for row in rounds[1]["host"][b]] for b in rounds[1]["host"]}
assert set(keys) == {"all", "letter", "country", "agency", "verdict", "software", "asn"}, keys
assert set(keys["country"]) == {"US", "AR", "AL", "BR"}, keys["country"]
assert '<img src=x onerror=alert(1)>&Co' in keys["software"], keys["software"]
assert 'AS64501 <b>AS "Evil"</b>' in keys["asn"], keys["asn"]

# The HTML: every number it shows is a <data value> (or an SVG data-value) found in the JSON.
numbers = []
def walk(x):
    if isinstance(x, bool) or x is None: return
    if isinstance(x, (int, float)): numbers.append(float(x))
    elif isinstance(x, dict): [walk(v) for v in x.values()]
    elif isinstance(x, list): [walk(v) for v in x]
walk(r)
known = set(numbers)
class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values, self.shown, self.td, self.data, self.stray, self.scripts = [], [], 0, 0, [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed"): self.scripts += 1
        if tag == "td": self.td += 1
        if tag == "data":
            self.data += 1
            self.values.append((float(a["value"]), a.get("class")))
        if "data-value" in a: self.values.append((float(a["data-value"]), "svg"))
    def handle_endtag(self, tag):
        if tag == "td": self.td -= 1
        if tag == "data": self.data -= 1
    def handle_data(self, text):
        if self.data and self.values: self.shown.append((self.values[-1], text))
        elif self.td and re.search(r"\d", text): self.stray.append(text)
page = Page()
html = open(f"{tmp}/r.html").read()
page.feed(html)
assert page.scripts == 0, "script, link or image in the report"
assert not page.stray, f"numbers outside <data> in table cells: {page.stray[:5]}"
assert len(page.values) > 500, len(page.values)
missing = [v for v, _ in page.values if v not in known]
assert not missing, f"HTML numbers not in the JSON: {missing[:5]}"
for (v, cls), text in page.shown:
    if cls == "pct":
        assert text == f"{100 * v:.1f}", (v, text)
# Small groups: counts, never a bare percentage ("x of y" with n < 10).
for m in re.finditer(r'<td><data value="(\d+)">\d+</data> of <data value="(\d+)">', html):
    if int(m.group(2)) < 10:
        assert '%' not in html[m.end():m.end() + 40].split("</td>")[0]
assert re.search(r'<td><data value="\d">\d</data> of <data value="\d">\d</data></td>', html), "no small group shown"
# Peer text escaped, never markup.
assert "<img" not in html and "<b>" not in html
assert "&lt;img src=x onerror=alert(1)&gt;&amp;Co" in html
assert "&lt;b&gt;AS &quot;Evil&quot;&lt;/b&gt;" in html
assert '<meta name="viewport"' in html
# The definition of a remediated owner and the randomised unit are in the report.
assert "none of whose hosts is still open or changed" in html and "randomised" in html.lower()

# The CSV: one row per round, level, breakdown, key and group; the numbers of the JSON.
with open(f"{tmp}/r.csv", newline="") as f:
    csv_rows = list(csv.DictReader(f))
assert len(csv_rows) == rows * 4, (len(csv_rows), rows)
by = {(int(c["round"]), c["level"], c["breakdown"], c["key"], c["group"]): c for c in csv_rows}
for rd in r["rounds"]:
    for level in ("owner", "host"):
        for breakdown, keyed in rd[level].items():
            for row in keyed:
                for grp in ("treatment", "control", "total"):
                    c, j = by[(rd["seq"], level, breakdown, row["key"], grp)], row[grp]
                    for name in ["n", "remediated"] + outcomes:
                        assert int(c[name]) == j[name], (c, j)
                    assert (c["rate"] == "") == (j["rate"] is None)
                    if j["rate"] is not None:
                        assert abs(float(c["rate"]) - j["rate"]) < 1e-9
                d = by[(rd["seq"], level, breakdown, row["key"], "difference")]
                assert (d["rate"] == "") == (row["difference"] is None)
                if row["test"] is not None:
                    assert abs(float(d["p"]) - row["test"]["p"]) < 1e-9
PY

# Hosts frozen in another order than their candidates' give the same report (the rounds come by candidate).
cp "$PLUGHOLE_DB" "$tmp/shuffled.db"
sqlite3 "$tmp/shuffled.db" "UPDATE campaign_hosts SET id = 1000000 - id WHERE campaign_id = $cid"
ph --db "$tmp/shuffled.db" report r1 --json "$tmp/shuffled.json" || fail "report on the shuffled store"
cmp -s "$tmp/r.json" "$tmp/shuffled.json" || fail "hosts out of candidate order changed the report"

# The terminal summary: the owner comparison first, the randomised unit named.
summary=$(cat "$tmp/summary.txt")
assert_contains "$summary" "owners were randomised"
assert_contains "$(sed -n 2p "$tmp/summary.txt")" "round 3 (latest): owners remediated, treatment"
assert_contains "$summary" "round 3 (started"
t=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["rounds"][2]["owner"]["all"][0]["treatment"]; print(c["remediated"], "of", c["n"])' "$tmp/r.json")
assert_contains "$summary" "owners remediated: treatment"
assert_contains "$summary" "$t)"
assert_not_contains "$summary" "nan"
assert_contains "$summary" "bounced, then reached a fallback contact"

# In headless Chromium: drawn, no console error, no failed or outside request; fits a phone.
assert_eq "$(status_of node "$B" shot "$tmp/r.html" "$tmp/wide.png" --full --self-contained)" 0 \
  "the report in Chromium: $(cat "$tmp/status.err")"
echo '[{"fits": true}, {"shot": "'"$tmp"'/phone.png"}, {"text": "h1", "expect": "Remediation report: r1"}]' >"$tmp/phone.json"
assert_eq "$(status_of node "$B" run "$tmp/r.html" "$tmp/phone.json" --width 375 --height 812 --self-contained)" 0 \
  "the report on a phone: $(cat "$tmp/status.err")"

# A campaign without rounds: said so, and the page still renders.
assert_contains "$(ph report r0)" "no recheck round yet"
ph report r0 --html "$tmp/r0.html" --json "$tmp/r0.json" || fail "report r0"
assert_eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rounds"]))' "$tmp/r0.json")" 0
assert_eq "$(status_of node "$B" shot "$tmp/r0.html" "$tmp/r0.png" --self-contained)" 0 "r0 in Chromium"

# Errors.
assert_eq "$(status_of ph report nosuch)" 1 "a missing campaign"
assert_contains "$(cat "$tmp/status.err")" "no campaign named 'nosuch'"
assert_eq "$(status_of ph report)" 2 "no NAME"
assert_eq "$(status_of ph report r1 r0)" 2 "two NAMEs"
assert_eq "$(status_of ph report r1 --html "$tmp/no/such/dir/r.html")" 1 "an unwritable file"
[ ! -e "$tmp/no/such/dir/r.html.tmp" ] || fail "left a temporary file"
echo ok
