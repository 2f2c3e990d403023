#!/usr/bin/env bash
# Campaigns end to end on real findings: plughole-lab plays open relays in
# 127.68.N.{1,2} (N = 1..12), web-only HTTP proxies in 127.68.20.x and SOCKS5
# mail proxies in 127.68.21.x; verify proves them through its sink and target;
# a tiny registry (tests/fixtures/campaign) gives fourteen owners in four countries,
# then: campaign create freezes proven, attributed findings only (the rest
# skipped and counted), the same seed draws the same control group, a later
# attribution leaves a frozen campaign as it was, suppression rules give
# suppressed letters naming the rule, tickets and their URL keys check out
# (recomputed here with Python's hmac), list/show print every format, and a
# malformed value fails (1), a missing operand or option is a usage error (2).
# Addresses: lab hosts 127.68.1-14.x, 127.68.20-21.x; verifier's sink and targets 127.68.250.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
FIX="${PLUGHOLE_SRC:?}/tests/fixtures/campaign"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
SINK=127.68.250.1:2541 WEB=127.68.250.1:8061 WEB443=127.68.250.1:4461
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
status_of() { local s=0; "$@" >"$tmp/status.out" 2>"$tmp/status.err" || s=$?; echo "$s"; }

"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.68.0.0/16 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
verify() {
  ph verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test \
    --connect-timeout 2 --timeout 3 --total-timeout 30 --retries 0 --proof-grace 0.5 --wait 3 "$@"
}
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.68.20.0/24 --mix http-connect-443=1 --web-port 4461 \
  >"$tmp/lab-web.out" 2>"$tmp/lab-web.err" & pids+=($!)
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.68.21.0/24 --mix socks5-open=1 \
  >"$tmp/lab-socks.out" 2>"$tmp/lab-socks.err" & pids+=($!)
web_port=$(lab_ports "$tmp/lab-web.out") || fail "the web proxy lab did not start"
socks_port=$(lab_ports "$tmp/lab-socks.out") || fail "the SOCKS lab did not start"
targets=()
for n in $(seq 1 12); do targets+=("127.68.$n.1:$port" "127.68.$n.2:$port"); done
verify "${targets[@]}" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail "verify failed"
assert_eq "$(q "select count(*) from findings where verdict = 'open-relay'")" 24 "24 proven open relays"
ph verify --tests proxy --allow-loopback --sink "$SINK" --sink-domain sink.test --target "$WEB" --target "$WEB443" \
  --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 30 --retries 0 --proof-grace 0.5 --wait 2 \
  "127.68.20.1:$web_port" "127.68.20.2:$web_port" "127.68.21.1:$socks_port" "127.68.21.2:$socks_port" \
  >>"$tmp/verify.out" 2>>"$tmp/verify.err" || fail "verify of the proxies failed"
assert_eq "$(q "select group_concat(verdict) from (select verdict from findings f join candidates c on c.id = f.candidate_id
               where c.address like '127.68.2_.%' order by c.address)")" \
  "open-proxy-web,open-proxy-web,open-proxy-mail,open-proxy-mail" "the proxies' verdicts"

ph attribute load "$FIX/registry.rpsl" >/dev/null 2>"$tmp/load.err" || fail "attribute load"
ph attribute >/dev/null 2>"$tmp/attr.err" || fail "attribute"
# Findings the campaign must skip: two verified after attribution (no owner
# yet), and an open verdict that no proof binds to (written by hand).
verify "127.68.13.1:$port" "127.68.13.2:$port" >/dev/null 2>>"$tmp/verify.err" || fail "second verify"
q "insert into candidates(address, port, family, first_seen, last_seen) values('127.68.14.1', $port, 4, 0, 0);
   insert into findings(candidate_id, verdict, test, token) select id, 'open-relay', 'relay', 'phnotaproof'
   from candidates where address = '127.68.14.1';"
assert_eq "$(q "select count(*) from findings where verdict like 'open-%'")" 31

# ---- create with a control group, twice with one seed: the same groups ----
ph campaign create c1 --control 0.3 --seed 7 --domain campaign.test >"$tmp/c1.out" 2>"$tmp/c1.err" ||
  fail "create c1: $(cat "$tmp/c1.err")"
cat "$tmp/c1.out"
assert_contains "$(cat "$tmp/c1.out")" "campaign c1: 28 hosts of 14 owners frozen"
assert_contains "$(cat "$tmp/c1.out")" "2 findings without an attribution: run 'plughole attribute' first"
assert_contains "$(cat "$tmp/c1.out")" "1 open findings that no proof binds to"
assert_contains "$(cat "$tmp/c1.err")" "skipped 127.68.13.1:$port: no attribution"
# 14 owners in six strata (country x verdict): four of three relay owners,
# JP's web proxy owner and JP's mail proxy owner; 0.3 * 3 = 0.9, so each
# stratum holds out 0 or 1, and 4 in all (round(0.3 * 14) = 4).
assert_eq "$(q "select count(*) from campaign_owners o join campaigns c on c.id = o.campaign_id where c.name = 'c1' and grp = 'control'")" 4
q "select stratum, sum(grp = 'control') from campaign_owners o join campaigns c on c.id = o.campaign_id
   where c.name = 'c1' group by stratum" >"$tmp/strata"
assert_eq "$(wc -l <"$tmp/strata")" 6 "six strata"
assert_contains "$(cat "$tmp/strata")" "JP|open-proxy-web|"
awk -F'|' '$3 > 1 { exit 1 }' "$tmp/strata" || fail "a stratum of three held out more than one: $(cat "$tmp/strata")"
ph campaign create c2 --control 0.3 --seed 7 --domain campaign.test >/dev/null 2>&1 || fail "create c2"
groups() { q "select o.organisation, o.grp from campaign_owners o join campaigns c on c.id = o.campaign_id
              where c.name = '$1' order by o.organisation"; }
assert_eq "$(groups c2)" "$(groups c1)" "the same seed draws the same groups"
# another seed draws other groups (one of five may repeat by chance, not all)
differs=0
for seed in 1 2 3 4 5; do
  ph campaign create "s$seed" --control 0.3 --seed "$seed" --domain campaign.test >/dev/null 2>&1 || fail "create s$seed"
  [ "$(groups "s$seed")" != "$(groups c1)" ] && differs=$((differs + 1))
done
[ "$differs" -gt 0 ] || fail "five other seeds all drew seed 7's groups"

# ---- letters: one per treated owner, none for the control group ----
assert_eq "$(q "select count(*) from letters l join campaigns c on c.id = l.campaign_id where c.name = 'c1'")" 10
assert_eq "$(q "select count(*) from letters l join campaign_owners o on o.id = l.campaign_owner_id where o.grp = 'control'")" 0
assert_eq "$(q "select count(*) from letters l join campaign_owners o on o.id = l.campaign_owner_id
               where l.recipient <> o.contact or l.state <> 'queued'")" 0
# A ticket is XXXXX-XXXXX in Crockford base32, its Message-ID <TICKET.c1@campaign.test>, and its
# URL key HMAC-SHA256(HMAC-SHA256(secret, "plughole ticket key\0" + salt), ticket), 16 bytes in hex.
q "select l.ticket, l.message_id, l.ticket_key, c.key_salt, c.name from letters l join campaigns c on c.id = l.campaign_id" >"$tmp/letters"
python3 - "$PLUGHOLE_DB.secret" "$tmp/letters" <<'PY' || fail "tickets"
import hashlib, hmac, re, sys
secret = open(sys.argv[1], "rb").read()
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[2])]
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
seen = set()
for ticket, mid, key, salt, name in rows:
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", ticket), ticket
    # Luhn mod 32 over the ten characters: the check holds
    total, factor = 0, 1
    for ch in reversed(ticket.replace("-", "")):
        a = factor * alphabet.index(ch); total += a // 32 + a % 32; factor = 3 - factor
    assert total % 32 == 0, ticket
    assert mid == "<%s.%s@campaign.test>" % (ticket, name), mid
    campaign_key = hmac.new(secret, b"plughole ticket key\0" + salt.encode(), hashlib.sha256).digest()
    assert key == hmac.new(campaign_key, ticket.encode(), hashlib.sha256).hexdigest()[:32], (ticket, key)
    assert ticket not in seen; seen.add(ticket)
print("tickets ok:", len(rows))
PY

# ---- frozen: a new attribution changes owners, not the campaign ----
ph campaign show c1 >"$tmp/show-before"
assert_eq "$(sed 1d "$tmp/show-before" | wc -l)" 28 "one row per frozen host (after the header)"
assert_eq "$(awk -F'\t' '$3 == "abuse@n1.example"' "$tmp/show-before" | wc -l)" 2
sed 's/abuse@n1.example/abuse@renamed.example/' "$FIX/registry.rpsl" >"$tmp/registry.rpsl"
ph attribute load --source registry.rpsl "$tmp/registry.rpsl" >/dev/null 2>&1 || fail "reload"
ph attribute >/dev/null 2>&1 || fail "re-attribute"
assert_contains "$(ph owners 2>/dev/null)" "abuse@renamed.example"
ph campaign show c1 >"$tmp/show-after"
cmp -s "$tmp/show-before" "$tmp/show-after" || { diff "$tmp/show-before" "$tmp/show-after" >&2; fail "c1 changed after attribute"; }
# ... and a campaign created now sees the new contact (and, attributed now, 127.68.13.x)
ph campaign create c3 --domain campaign.test >"$tmp/c3.out" 2>/dev/null || fail "create c3"
assert_contains "$(cat "$tmp/c3.out")" "30 hosts of 15 owners frozen"
assert_contains "$(ph campaign show c3)" "abuse@renamed.example"
assert_not_contains "$(ph campaign show c1)" "abuse@renamed.example"

# ---- suppression: address, domain, a network with all or part of an owner's hosts ----
ph suppress add abuse@N3.Example --reason "asked us not to write" >/dev/null || fail "suppress address"
ph suppress add @n4.example --reason "their whole domain opted out" >/dev/null || fail "suppress domain"
ph suppress add 127.68.5.1/32 --reason "one host" >/dev/null || fail "suppress one host"
ph suppress add 127.68.6.0/24 --reason "their network" >/dev/null || fail "suppress network"
ph suppress add 127.68.7.0-127.68.7.0 --reason "another" >/dev/null || fail "suppress range"
assert_contains "$(ph suppress add @N4.example --reason again)" "was suppressed already"
ph suppress list >"$tmp/suppress.tsv"
assert_eq "$(sed 1d "$tmp/suppress.tsv" | wc -l)" 5
assert_eq "$(sed 1d "$tmp/suppress.tsv" | cut -f1,2 | head -n 2 | tr '\t\n' ' ')" "address abuse@n3.example domain n4.example "
ph suppress remove 127.68.7.0 >/dev/null || fail "remove by the same notation"
assert_eq "$(ph suppress list | sed 1d | wc -l)" 4
assert_eq "$(status_of ph suppress remove 127.68.7.0)" 1 "removing a rule that is not there"
ph campaign create sup --domain campaign.test >/dev/null 2>&1 || fail "create sup"
letter() { q "select l.state || ' ' || coalesce(l.suppressed_by, '-') from letters l join campaign_owners o on o.id = l.campaign_owner_id
              join campaigns c on c.id = l.campaign_id where c.name = 'sup' and o.contact = '$1'"; }
assert_eq "$(letter abuse@n3.example)" "suppressed address abuse@n3.example: asked us not to write"
assert_eq "$(letter abuse@n4.example)" "suppressed domain @n4.example: their whole domain opted out"
assert_eq "$(letter abuse@n5.example)" "queued -" "one of two hosts suppressed: the letter goes, about the other"
assert_eq "$(q "select address from campaign_hosts h join campaigns c on c.id = h.campaign_id where c.name = 'sup' and suppressed_by is not null and address like '127.68.5.%'")" 127.68.5.1
assert_eq "$(letter abuse@n6.example)" "suppressed network 127.68.6.0-127.68.6.255: their network"
assert_eq "$(letter abuse@n8.example)" "queued -"
# list and show count them
ph campaign list >"$tmp/list.tsv"
cat "$tmp/list.tsv"
# name created hosts owners treatment control queued sending sent deferred failed bounced suppressed skipped
assert_eq "$(awk -F'\t' '$1 == "sup" { print $3, $4, $5, $6, $7, $13 }' "$tmp/list.tsv")" "30 15 15 0 12 3"
assert_eq "$(awk -F'\t' '$1 == "c1" { print $3, $4, $5, $6, $7 }' "$tmp/list.tsv")" "28 14 10 4 10"
awk -F'\t' '$1 == "c1" { print $2 }' "$tmp/list.tsv" | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' ||
  fail "created as a UTC time"
ph campaign show sup --format json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 30, len(rows)
assert {r["group"] for r in rows} == {"treatment"}
assert all(r["proved"].endswith("Z") and r["token"].startswith("ph") for r in rows)
assert sorted({r["verdict"] for r in rows}) == ["open-proxy-mail", "open-proxy-web", "open-relay"]
by = {r["address"]: r for r in rows}
assert by["127.68.6.1"]["letter"] == "suppressed" and by["127.68.2.1"]["letter"] == "queued"
assert by["127.68.5.1"]["suppressed_by"] == "network 127.68.5.1: one host"
' || fail "show --format json"
assert_eq "$(ph campaign show c1 --format csv | head -n 1 | cut -d, -f1-6)" "owner,organisation,contact,owner_country,group,letter"
assert_eq "$(ph campaign show c1 | awk -F'\t' '$5 == "control" && $6 != "-"' | wc -l)" 0 "control hosts have no letter"

# ---- filters ----
ph campaign create br --country br --domain campaign.test >"$tmp/br.out" 2>/dev/null || fail "create br"
assert_contains "$(cat "$tmp/br.out")" "6 hosts of 3 owners frozen"
assert_eq "$(ph campaign show br | sed 1d | cut -f17 | sort -u)" BR
ph campaign create kisa --agency kisa --domain campaign.test >"$tmp/kisa.out" 2>/dev/null || fail "create kisa"
assert_contains "$(cat "$tmp/kisa.out")" "6 hosts of 3 owners frozen"
assert_eq "$(q "select distinct language || ' ' || template from letters l join campaigns c on c.id = l.campaign_id where c.name = 'kisa'")" \
  "$(awk '/^\[kisa\]/ { s = 1 } s && /^language/ { l = $3 } s && /^template/ { print l, $3; exit }' "$PLUGHOLE_DATA/agencies.conf")"
ph campaign create web --verdicts open-proxy-web --domain campaign.test >"$tmp/web.out" 2>/dev/null || fail "create web"
assert_contains "$(cat "$tmp/web.out")" "2 hosts of 1 owners frozen"
assert_eq "$(ph campaign show web | sed 1d | cut -f10,12 | sort | tr '\t\n' ' ')" "127.68.20.1 open-proxy-web 127.68.20.2 open-proxy-web "
# proof times: the sink's record of each token (a target hit for the web proxies, a proof for the rest)
assert_eq "$(q "select count(*) from campaign_hosts h join campaigns c on c.id = h.campaign_id where c.name = 'web'
               and h.proved = (select min(t.received) from target_hits t where t.token = h.token)")" 2
assert_eq "$(q "select count(*) from campaign_hosts h join campaigns c on c.id = h.campaign_id where c.name = 'c1'
               and h.verdict <> 'open-proxy-web' and h.proved = (select min(p.received) from proofs p where p.token = h.token)")" 26
# without the target's record, an open-proxy-web verdict proves nothing: skipped
q "update target_hits set token = null"
assert_eq "$(status_of ph campaign create web2 --verdicts open-proxy-web --domain campaign.test)" 1 "nothing qualifies"
assert_contains "$(cat "$tmp/status.err")" "2 open findings that no proof binds to"
assert_contains "$(cat "$tmp/status.err")" "no campaign 'web2' made"
assert_eq "$(q "select count(*) from campaigns where name = 'web2'")" 0 "an empty campaign is not made"

# ---- an agency the agencies file given does not name: its letters have no language or template, and say so ----
awk '/^\[/ { keep = ($0 == "[ftc]") } keep' "$PLUGHOLE_DATA/agencies.conf" >"$tmp/agencies.conf"
ph campaign create lean --agencies "$tmp/agencies.conf" --domain campaign.test >/dev/null 2>"$tmp/lean.err" || fail "create lean"
assert_contains "$(cat "$tmp/lean.err")" "agency 'CGI.br' of abuse@n5.example is not in the agencies file"
assert_eq "$(q "select distinct o.country || ' ' || coalesce(l.language, '-') || '/' || coalesce(l.template, '-') from letters l
               join campaigns c on c.id = l.campaign_id join campaign_owners o on o.id = l.campaign_owner_id
               where c.name = 'lean' and o.country in ('BR', 'US')" | sort | tr '\n' ' ')" "BR -/- US en/lead-en "

# ---- a contact that is no mailbox (registries hold garbage): a skipped letter saying why ----
q "update owners set abuse = 'abuse desk, room 12' where abuse = 'abuse@n12.example';
   update attributions set contact = 'abuse desk, room 12' where contact = 'abuse@n12.example'"
ph campaign create junk --domain campaign.test >"$tmp/junk.out" 2>/dev/null || fail "create junk"
assert_contains "$(cat "$tmp/junk.out")" "1 skipped (a contact that is no mailbox"
assert_eq "$(ph campaign show junk | awk -F'\t' '$3 == "abuse desk, room 12" { print $6 ": " $9 }' | sort -u)" \
  "skipped: the contact is no mailbox: no '@'"

# ---- bad input: malformed values fail (1), usage errors (2): README's convention ----
assert_eq "$(status_of ph campaign create c1 --domain campaign.test)" 1 "an existing name"
assert_contains "$(cat "$tmp/status.err")" "exists already"
assert_eq "$(status_of ph campaign create x --control 1 --domain campaign.test)" 1 "--control 1"
assert_eq "$(status_of ph campaign create x --control abc --domain campaign.test)" 1 "--control abc"
assert_eq "$(status_of ph campaign create x --seed -1 --domain campaign.test)" 1 "--seed -1"
assert_eq "$(status_of ph campaign create x --verdicts open-relay,closed --domain campaign.test)" 1 "a verdict that is not open"
assert_contains "$(cat "$tmp/status.err")" "'closed' is not open-relay"
assert_eq "$(status_of ph campaign create x --agency NOPE --domain campaign.test)" 1 "an unknown agency"
assert_eq "$(status_of ph campaign create x --country BRA --domain campaign.test)" 1 "a bad country"
assert_eq "$(status_of ph campaign create 'a b' --domain campaign.test)" 1 "a bad name"
assert_eq "$(status_of ph campaign create x --domain 'bad domain')" 1 "a bad domain"
assert_eq "$(status_of ph campaign create x)" 2 "no domain"
assert_eq "$(status_of ph campaign show nosuch)" 1 "show of a missing campaign"
assert_eq "$(status_of ph campaign frobnicate)" 2 "an unknown sub-verb"
assert_eq "$(status_of ph suppress add 'no-at-or-net' --reason x)" 1 "a bad rule"
assert_eq "$(status_of ph suppress add abuse@n9.example)" 2 "no --reason"
assert_eq "$(status_of ph suppress add 'a b@n9.example' --reason x)" 1 "a space in the local part"
assert_eq "$(status_of ph suppress add '@localhost' --reason x)" 1 "a one-label domain"
assert_eq "$(q "select count(*) from campaigns where name = 'x'")" 0 "nothing half-made"
assert_contains "$(ph campaign --help)" "campaign create NAME"
# the verbs that only read want a store that exists, and make none
for verb in "campaign list" "campaign show c1" "suppress list"; do
  assert_eq "$(status_of ph --db "$tmp/none.db" $verb)" 1 "$verb on a missing store"
done
assert_eq "$(status_of ph --db "$tmp/none.db" campaign create x --domain campaign.test)" 1 "create on a missing store"
[ ! -e "$tmp/none.db" ] || fail "a read verb made a store"
echo "campaign: ok"
