#!/usr/bin/env bash
# campaign preview: letters of a frozen campaign made into their messages.
# Stdout shows the first two, readable; --eml and --maildir write every one,
# read back here by Python's email package (headers, the evidence URL of
# issue 14's shape with the key the store holds, List-Unsubscribe written
# raw, the UTF-8 letter in each agency's language). The template fallback: an
# agency without templates of its own (AL-TR, Albanian) writes with the lead's
# template in its language when there is one, else the lead's English one.
# No network.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export PLUGHOLE_DB="$tmp/db"
ph() { "$PLUGHOLE" "$@"; }
printf '[web]\npublic_url = https://letters.example.org/\n' >"$tmp/conf.ini"

letters_findings "$PLUGHOLE_DB" 8 3
ph campaign create c1 --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"
ph --config "$tmp/conf.ini" campaign preview c1 >"$tmp/stdout" 2>"$tmp/stderr" || fail "preview: $(cat "$tmp/stderr")"
assert_eq "$(grep -c '^==== letter ' "$tmp/stdout")" 2 "stdout shows the first two letters"
assert_contains "$(cat "$tmp/stdout")" "To the network administrators of Telecomunicaciones Núñez S.A."
assert_contains "$(cat "$tmp/stdout")" "https://letters.example.org/t/"
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select count(*) from letters where state = 'queued'")" 8 "preview sends nothing"

ph --config "$tmp/conf.ini" campaign preview c1 --eml "$tmp/eml" >/dev/null || fail "preview --eml"
ph --config "$tmp/conf.ini" campaign preview c1 --maildir "$tmp/md" >/dev/null || fail "preview --maildir"
assert_eq "$(ls "$tmp/eml" | wc -l)" 8 "one .eml per letter"
assert_eq "$(ls "$tmp/md/new" | wc -l)" 8 "one Maildir message per letter"
sqlite3 -separator ' ' "$PLUGHOLE_DB" "select ticket, ticket_key, agency, message_id from letters order by id" >"$tmp/letters"
python3 - "$tmp/eml" "$tmp/letters" <<'PY' || fail "the messages"
import email, email.policy, sys
d, rows = sys.argv[1], [l.split() for l in open(sys.argv[2])]
language = {"FTC": "WHAT WE FOUND", "AR-CP": "CÓMO RESOLVERLO", "AL-TR": "WHAT WE FOUND", "CGI.br": "Agências participantes"}
for ticket, key, agency, mid in rows:
    raw = open(f"{d}/{ticket}.eml", "rb").read()
    # raw, not RFC 2047 words, which clients do not read as a URL
    assert f"\nList-Unsubscribe: <https://letters.example.org/t/{ticket}/".encode() in raw, "List-Unsubscribe is encoded"
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert not m.defects, m.defects
    assert m["Message-ID"] == mid, (m["Message-ID"], mid)
    lu = " ".join(str(m["List-Unsubscribe"]).split())
    assert lu == f"<https://letters.example.org/t/{ticket}/{key}/unsubscribe>, <mailto:unsubscribe+{ticket}@campaign.test?subject=unsubscribe>", lu
    text = next(p for p in m.walk() if p.get_content_type() == "text/plain").get_content()
    assert f"https://letters.example.org/t/{ticket}/{key}" in text, "evidence URL"
    assert language[agency] in text, (agency, text[:400])
    assert ticket in str(m["Subject"])
print("ok")
PY
# fallback, second rung: a lead template in the agency's language wins over the lead's English
cp -r "$PLUGHOLE_DATA" "$tmp/data"
mkdir -p "$tmp/data/templates/ftc/sq"
sed 's/WHAT WE FOUND/ÇFARË GJETËM/' "$tmp/data/templates/ftc/en/body.txt" >"$tmp/data/templates/ftc/sq/body.txt"
cp "$tmp/data/templates/ftc/en/subject.txt" "$tmp/data/templates/ftc/sq/"
al=$(sqlite3 "$PLUGHOLE_DB" "select ticket from letters where agency = 'AL-TR' limit 1")
PLUGHOLE_DATA="$tmp/data" ph campaign preview c1 --owner "$al" >"$tmp/al" || fail "preview AL"
assert_contains "$(cat "$tmp/al")" "ÇFARË GJETËM"
assert_eq "$(ph campaign preview c1 --owner nosuch 2>&1 >/dev/null)" "plughole: warning: campaign preview: no letter of that owner to preview"
assert_eq "$(ph campaign preview nosuch >/dev/null 2>&1; echo $?)" 1 "an unknown campaign"
echo "letters_preview: ok"
