#!/usr/bin/env bash
# Letters as MIME messages, checked by an independent parser: the unit test's
# helper mode writes the sample letters (English lead, Spanish, Portuguese,
# Japanese)
# and Python's email package reads them back: headers, MIME structure, the
# UTF-8 letter and the CSV of hosts. No network.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$PLUGHOLE_BUILD/tests/test_notify_mime" --write "$tmp"

out=$(python3 - "$tmp" <<'PY'
import csv, email, email.policy, io, sys, email.utils
d = sys.argv[1]
expected = {
    "ftc": ("United States Federal Trade Commission", "secure-your-server@ftc.example.org", "servers@ftc.example.org"),
    "ar": ("Autoridad de Protección al Consumidor (Argentina)", "secure-your-server@ar-cp.example.org", "servers@ar-cp.example.org"),
    "cgi": ("Comitê Gestor da Internet no Brasil", "secure-your-server@cgi-br.example.org", "secure-your-server@cgi-br.example.org"),
    "mic": ("総務省", "secure-your-server@mic.example.org", "servers@mic.example.org"),
}
def check(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
for agency, (name, sender, reply_to) in expected.items():
    raw = open(f"{d}/{agency}.eml", "rb").read()
    check(all(b < 0x80 for b in raw), f"{agency}: 8-bit bytes on the wire")
    m = email.message_from_bytes(raw, policy=email.policy.default)
    check(not m.defects, f"{agency}: defects {m.defects}")
    frm = m["From"].addresses[0]
    check((frm.display_name, frm.addr_spec) == (name, sender), f"{agency}: From {frm}")
    check(m["Reply-To"].addresses[0].addr_spec == reply_to, f"{agency}: Reply-To {m['Reply-To']}")
    to = m["To"].addresses[0]
    check((to.display_name, to.addr_spec) == ("Telecomunicaciones Núñez S.A.", "abuse@nunez.example.net"), f"{agency}: To {to}")
    subject = open(f"{d}/{agency}.subject", encoding="utf-8").read()
    check(str(m["Subject"]) == subject and "[SYS-4F2A-9C]" in subject, f"{agency}: Subject {m['Subject']!r}")
    check(m["Message-ID"] == "<SYS-4F2A-9C.1@letters.example.org>", f"{agency}: Message-ID")
    check(email.utils.parsedate_to_datetime(m["Date"]).timestamp() == 1075400000, f"{agency}: Date {m['Date']}")
    check(m["Auto-Submitted"] == "auto-generated", f"{agency}: Auto-Submitted")
    check(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", f"{agency}: List-Unsubscribe-Post")
    lu = " ".join(str(m["List-Unsubscribe"]).split())
    check(lu == "<https://sys.example.org/unsubscribe/SYS-4F2A-9C>, <mailto:unsubscribe+SYS-4F2A-9C@letters.example.org?subject=unsubscribe>", f"{agency}: List-Unsubscribe {lu}")
    check(m["MIME-Version"] == "1.0", f"{agency}: MIME-Version")
    check(m.get_content_type() == "multipart/mixed", f"{agency}: {m.get_content_type()}")
    parts = list(m.iter_parts())
    check(len(parts) == 2, f"{agency}: {len(parts)} parts")
    text, att = parts
    check(text.get_content_type() == "text/plain" and text.get_content_charset() == "utf-8", f"{agency}: text part")
    check(text["Content-Transfer-Encoding"] == "quoted-printable", f"{agency}: text encoding")
    check(not text.is_attachment(), f"{agency}: the letter is inline")
    body = open(f"{d}/{agency}.body", encoding="utf-8").read()
    check(text.get_content() == body, f"{agency}: the letter differs")
    check(att.get_content_type() == "text/csv" and att.is_attachment(), f"{agency}: csv part")
    check(att.get_filename() == "hosts-SYS-4F2A-9C.csv", f"{agency}: filename {att.get_filename()}")
    data = att.get_payload(decode=True)
    check(data == open(f"{d}/{agency}.csv", "rb").read(), f"{agency}: the CSV differs")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    check(rows[0] == ["timestamp", "ip", "port", "protocol", "verdict", "asn", "country", "software", "ticket"], f"{agency}: CSV header {rows[0]}")
    check(rows[1] == ["2004-01-29T14:05:00Z", "192.0.2.25", "25", "smtp", "open-relay", "64500", "AR", "Postfix", "SYS-4F2A-9C"], f"{agency}: row {rows[1]}")
    check(rows[3] == ["2004-01-29T16:05:00Z", "192.0.2.26", "1080", "socks5", "open-proxy-web", "", "", 'Dante, "patched"', "T-2"], f"{agency}: row {rows[3]}")
    check(len(rows) == 4, f"{agency}: {len(rows)} rows")
    print(f"{agency}: ok ({len(raw)} bytes, subject {subject!r})")
PY
)
echo "$out"
assert_contains "$out" "ftc: ok"
assert_contains "$out" "ar: ok"
assert_contains "$out" "cgi: ok"
assert_contains "$out" "mic: ok"
# the UTF-8 letters survive: the decoded Spanish, Portuguese and Japanese bodies
assert_contains "$(cat "$tmp/ar.body")" "CÓMO RESOLVERLO"
assert_contains "$(cat "$tmp/cgi.body")" "Agências participantes"
assert_contains "$(cat "$tmp/mic.body")" "なぜ問題なのか"
echo "notify_mime: 4 letters checked by Python's email package"
