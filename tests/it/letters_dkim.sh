#!/usr/bin/env bash
# DKIM-signed letters, checked by an independent verifier: dkimpy (Debian's
# python3-dkim, /usr/bin/python3) reads each message as the real Postfix
# smarthost (127.86.2.1) delivered it into a Maildir, with a DNS look-up that
# answers the test's own public key for SELECTOR._domainkey.DOMAIN (dkimpy
# rather than opendkim-testmsg: it needs no key table or resolver config,
# and its dnsfunc hook makes the "DNS" part of the test). The signature
# must verify (rsa-sha256, relaxed/relaxed, the headers that matter signed),
# and fail once the Subject or the body is changed: the verifier can fail.
# Without dkim_key nothing is signed; a key file that is not a key is a
# clear error. Traffic: 127.86.2.1 only.
set -euo pipefail
set +m
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/peers.sh"
. "$(dirname "$0")/lib/letters_store.sh"
tmp=$(mktemp -d); [ -z "${KEEP:-}" ] || tmp=$KEEP
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp"/*.out >&2 2>/dev/null || true; exit 1; }
PY=/usr/bin/python3
"$PY" -c 'import dkim' 2>/dev/null || fail "python3-dkim is not installed (scripts/install-deps.sh --with-peers)"
peers_init "$tmp"
start_postfix_maildir 127.86.2.1 2525 "$tmp/mail/box" 2>"$tmp/postfix.out" || fail "start Postfix"
box=$tmp/mail/box
export PLUGHOLE_DB="$tmp/db"
openssl genrsa -out "$tmp/dkim.key" 2048 2>/dev/null
openssl rsa -in "$tmp/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0 >"$tmp/dkim.pub"
printf '[campaign]\ndkim_key = %s\ndkim_selector = letters2026\ndkim_domain = signing.example.org\n' \
  "$tmp/dkim.key" >"$tmp/signed.conf"
letters_findings "$PLUGHOLE_DB" 4 2
"$PLUGHOLE" campaign create plain --domain campaign.test --seed 1 >/dev/null 2>&1 || fail "create"

# ---- a key file that is not a key: a clear error, nothing sent ----
printf '[campaign]\ndkim_key = %s\n' "$tmp/signed.conf" >"$tmp/bad.conf"
rc=0
"$PLUGHOLE" --config "$tmp/bad.conf" campaign send plain --smtp smtp://127.86.2.1:2525 >"$tmp/bad.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "a bad key ends send"
assert_contains "$(cat "$tmp/bad.out")" "not a PEM RSA private key"

# ---- unsigned without a key ----
"$PLUGHOLE" campaign preview plain --eml "$tmp/unsigned" >/dev/null || fail "preview unsigned"
assert_eq "$(grep -l '^DKIM-Signature:' "$tmp"/unsigned/*.eml | wc -l)" 0 "nothing signed without dkim_key"

# ---- signed, sent through Postfix, verified from the Maildir ----
"$PLUGHOLE" --config "$tmp/signed.conf" campaign send plain --smtp smtp://127.86.2.1:2525 >"$tmp/send.out" 2>&1 ||
  fail "send signed"
assert_contains "$(cat "$tmp/send.out")" "4 sent"
for _ in $(seq 1 100); do [ "$(ls "$box/new" | wc -l)" -ge 4 ] && break; sleep 0.1; done
assert_eq "$(ls "$box/new" | wc -l)" 4 "four letters delivered"
"$PY" - "$tmp/dkim.pub" "$box/new" <<'PY' || fail "dkimpy verification"
import glob, os, re, sys
import dkim

pub = open(sys.argv[1]).read().strip()
def dnsfunc(name, timeout=5):
    # the only key there is: anything else is a look-up that finds nothing
    if name in (b"letters2026._domainkey.signing.example.org.", "letters2026._domainkey.signing.example.org."):
        return ("v=DKIM1; k=rsa; p=" + pub).encode()
    return None

def wire(path):  # Maildir files have LF lines; on the wire they are CRLF
    data = open(path, "rb").read()
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

want = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-unsubscribe",
        b"list-unsubscribe-post", b"mime-version", b"content-type"]
files = sorted(glob.glob(os.path.join(sys.argv[2], "*")))
assert len(files) == 4, files
for path in files:
    msg = wire(path)
    assert dkim.verify(msg, dnsfunc=dnsfunc), ("does not verify", path)
    value = msg.split(b"\r\nDKIM-Signature:", 1)[1].split(b"\r\n\r\n")[0]
    value = re.split(b"\r\n(?=[^ \t])", value)[0].replace(b"\r\n", b"")
    sig = dkim.util.parse_tag_value(value)
    assert sig[b"a"] == b"rsa-sha256", sig[b"a"]
    assert sig[b"c"] == b"relaxed/relaxed", sig[b"c"]
    assert sig[b"d"] == b"signing.example.org" and sig[b"s"] == b"letters2026", sig
    signed = [h.strip().lower() for h in sig[b"h"].split(b":")]
    for h in want:
        assert h in signed, ("not signed", h, signed)
    # tampered: one word of the Subject, then one byte of the body
    head, sep, body = msg.partition(b"\r\n\r\n")
    bad_subject = head.replace(b"Subject: [", b"Subject: [X", 1) + sep + body
    assert bad_subject != msg
    assert not dkim.verify(bad_subject, dnsfunc=dnsfunc), ("a changed Subject verifies", path)
    i = body.index(b"=\r\n")  # inside the quoted-printable text
    bad_body = head + sep + body[:i] + b"!" + body[i:]
    assert not dkim.verify(bad_body, dnsfunc=dnsfunc), ("a changed body verifies", path)
    # and a key that is not the signer's
    other = lambda name, timeout=5: b"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdx/yK0qTRWHOGBtRSYCqVzmgWeFR1M5ICH0aZTqrSTHNu3tFhpfOFNDpWqRVkyFDxGQm7gvOsqYpI29fA0uOoGXKJKeMoVFaXlQ0f+VZY6Q4+cyg0fFmMeMDJ0PHWU7S2zeHpkQIDAQAB"
    assert not dkim.verify(msg, dnsfunc=other), ("verifies with another key", path)
print("dkimpy: 4 letters verify; tampered Subject, body and a wrong key fail")
PY
# the preview signs too, the same headers (LF lines sign as the wire's CRLF)
"$PLUGHOLE" --config "$tmp/signed.conf" campaign preview plain --owner 1 --eml "$tmp/signed" >/dev/null ||
  fail "preview signed"
assert_eq "$(grep -l '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=signing.example.org;' "$tmp"/signed/*.eml | wc -l)" 1 \
  "the preview's letter signed"
echo "letters_dkim: ok"
