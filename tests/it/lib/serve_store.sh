# shellcheck shell=bash
# serve_store.sh: what the owners' web tests share. A campaign store made as
# the letter tests make theirs (letters_store.sh: synthetic proven findings,
# then a real `plughole campaign create`), one host's proof transcript
# carrying hostile markup, an admin password file, and a running
# `plughole serve` on an address of the caller's.
#
#   serve_store DB                       campaign c1 of 8 owners, 2 hosts each; a recheck round
#                                        in which the first owner's first host is fixed
#   serve_start LOG ADDR:PORT [OPTIONS]  starts serve (pid in $serve_pid), waits until it answers
#   serve_ticket_url N                   /t/TICKET/KEY of the Nth letter (1-based), FTC's first
SERVE_PASSWORD='correct horse battery staple'
SERVE_SCRIPT='<script>alert("x")</script>'

serve_store() {
  local db=$1
  . "$(dirname "${BASH_SOURCE[0]}")/letters_store.sh"
  letters_findings "$db" 8 2
  "${PLUGHOLE:?}" --db "$db" campaign create c1 --domain campaign.test --seed 1 >/dev/null 2>&1
  # a banner a hostile peer sent: shown as text, never markup
  sqlite3 "$db" "update findings set transcript = '<-- 220 relay.example ESMTP $SERVE_SCRIPT' || char(10) || '--> EHLO verifier.test'
                 where candidate_id = 1"
  # a recheck round (issue 13's tables): the first owner's two hosts, one fixed, one still open
  sqlite3 "$db" "insert into rounds(id, kind, campaign_id, seq, started, finished, status)
                   select 1, 'recheck', id, 1, 1075990000, 1075990100, 'done' from campaigns where name = 'c1';
                 insert into round_findings(round_id, candidate_id, verdict, test, checked)
                   values(1, 1, 'closed', 'relay', 1075990050), (1, 9, 'open-relay', 'relay', 1075990060);"
  echo "$SERVE_PASSWORD" | "$PLUGHOLE" passwd "$db.pw"
}

serve_start() {
  local log=$1 listen=$2 scheme=http
  shift 2
  case " $* " in *" --tls-cert "*) scheme=https ;; esac
  "$PLUGHOLE" serve --listen "$listen" --admin-password-file "$PLUGHOLE_DB.pw" "$@" >"$log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 100); do
    curl -ks -o /dev/null "$scheme://$listen/" && return 0
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve did not start: $(cat "$log")" >&2
  return 1
}

serve_ticket_url() {
  sqlite3 "$PLUGHOLE_DB" "select '/t/' || ticket || '/' || ticket_key from letters order by id limit 1 offset $(( $1 - 1 ))"
}
