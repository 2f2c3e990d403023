#!/usr/bin/env bash
# Letters benchmark (issue 12), two figures:
#  1. campaign create and render: a synthetic store of 100,000 proven open
#     findings over 20,000 owners (as bench/campaign.sh makes it; 10.x
#     addresses that nothing verifies or sends to), `campaign create`, then
#     `campaign preview --eml` renders and builds every letter's message
#     (16,000 with a control share of 0.2). Budget: 10 s for both. The
#     .eml files go to tmpfs (/dev/shm, or $BENCH_EML_DIR): on a shared ext4
#     /tmp, creating 16,000 files right after others were deleted costs the
#     kernel's inode allocator 2.5-8 s of system time (perf: ext4
#     find_inode_bit/recently_deleted), growing from one run to the next,
#     which measures the disk's history, not the letters. The CPU time of the
#     render (user, sys) is printed beside it.
#  2. sending: 2,000 letters through a real local Postfix (127.72.5.1, every
#     message into a Maildir) with rate limits off and one kept connection,
#     beside Postfix's own load generator smtp-source against the same
#     Postfix with messages of the same size over one kept connection
#     (-s 1 -d): the ceiling here. Target: at least half of it.
# Needs root for Postfix (tests/it/lib/peers.sh). Traffic: 127.72.0.0/16 only.
#   bash bench/letters.sh BUILD_DIR
set -euo pipefail
set +m
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
export PLUGHOLE="$build/plughole" PLUGHOLE_DATA="$src/data"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-letters.XXXXXX")
. "$src/tests/it/lib/peers.sh"
. "$src/tests/it/lib/letters_store.sh"
# shellcheck source=bench/lib/proven_findings.sh
. "$src/bench/lib/proven_findings.sh"
trap 'peers_stop_all; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

# ---- 1. create and render ----
findings=100000 owners=20000 db=$tmp/big.db
proven_findings "$PLUGHOLE" "$db" "$findings" "$owners" 0 FTC AR-CP CGI.br AL-TR
t0=$(now)
"$PLUGHOLE" --db "$db" campaign create bench --control 0.2 --seed 1 --domain campaign.test >"$tmp/create.out" 2>&1
eml_root=${BENCH_EML_DIR:-/dev/shm}
[ -d "$eml_root" ] && [ -w "$eml_root" ] || eml_root=$tmp
eml=$(mktemp -d "$eml_root/plughole-bench-eml.XXXXXX")
t1=$(now)
/usr/bin/time -f '%U %S' -o "$tmp/render.cpu" \
  "$PLUGHOLE" --db "$db" campaign preview bench --eml "$eml/out" >"$tmp/render.out" 2>&1
t2=$(now)
letters=$(ls "$eml/out" | wc -l)
rm -rf "$eml"
read -r user sys <"$tmp/render.cpu"
printf 'create %d findings over %d owners: %.2f s; render and build %d letters (files in %s): %.2f s (CPU %s s user, %s s sys); together %.2f s (budget 10 s)\n' \
  "$findings" "$owners" "$(echo "$t1 - $t0" | bc -l)" "$letters" "$eml_root" "$(echo "$t2 - $t1" | bc -l)" "$user" "$sys" "$(echo "$t2 - $t0" | bc -l)"

# ---- 2. sending, beside smtp-source ----
peers_init "$tmp"
start_postfix_maildir 127.72.5.1 2525 "$tmp/mail/box"
n=2000
export PLUGHOLE_DB=$tmp/send.db
letters_findings "$PLUGHOLE_DB" $n 1
"$PLUGHOLE" campaign create send --domain campaign.test --seed 1 >/dev/null 2>&1
"$PLUGHOLE" campaign preview send --eml "$tmp/all" >/dev/null
size=$(( $(cat "$tmp"/all/*.eml | wc -c) / $(ls "$tmp/all" | wc -l) )) # the average letter, LF lines
rm -rf "$tmp/all"
t0=$(now)
"$PLUGHOLE" campaign send send --smtp smtp://127.72.5.1:2525 >"$tmp/send.out" 2>&1
t1=$(now)
sent=$(sqlite3 "$PLUGHOLE_DB" "select count(*) from letters where state = 'sent'")
ours=$(echo "$sent / ($t1 - $t0)" | bc -l)
# let Postfix deliver our letters before measuring it again
for _ in $(seq 1 600); do [ "$(ls "$tmp/mail/box/new" | wc -l)" -ge "$sent" ] && break; sleep 0.1; done
t0=$(now)
/usr/sbin/smtp-source -s 1 -d -m $n -l "$size" -f bench@campaign.test -t abuse@o1.example 127.72.5.1:2525
t1=$(now)
ceiling=$(echo "$n / ($t1 - $t0)" | bc -l)
printf 'send %d letters (%d bytes on average): %.0f letters/s; smtp-source, same Postfix, same size, one connection: %.0f messages/s; ratio %.2f (target >= 0.5)\n' \
  "$sent" "$size" "$ours" "$ceiling" "$(echo "$ours / $ceiling" | bc -l)"
