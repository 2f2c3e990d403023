# shellcheck shell=bash
# Helpers for tests that run plughole-lab.

# lab_ports OUT [N]: waits until the lab writing to OUT has printed N
# "listening 0.0.0.0:PORT" lines (default 1) and prints the first N ports.
lab_ports() {
	local out=$1 want=${2:-1}
	for _ in $(seq 1 100); do
		if [ "$(grep -c '^listening ' "$out" 2>/dev/null)" -ge "$want" ]; then
			awk -F: -v want="$want" '/^listening 0\.0\.0\.0:[0-9]+$/ && n++ < want { print $2 }' "$out"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# lab_session [LINES]: the set-up of a test that runs labs (and plughole) in the
# background: LAB (the lab binary), tmp (a directory removed at exit), pids
# (killed at exit, then waited for) and fail MESSAGE, which shows the last
# LINES (default 30) of each log in tmp (*.err, *.out, *.log) and exits 1.
# shellcheck disable=SC2120,SC2317 # LINES is optional; fail is called by the tests
lab_session() {
	LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
	LAB_TAIL=${1:-30}
	tmp=$(mktemp -d)
	pids=()
	trap lab_cleanup EXIT
	fail() {
		echo "FAIL: $*" >&2
		local f
		for f in "$tmp"/*.err "$tmp"/*.out "$tmp"/*.log; do
			[ -f "$f" ] && { echo "--- $f" >&2; tail -n "$LAB_TAIL" "$f" >&2; }
		done
		exit 1
	}
}

lab_cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}

# lab_start NAME [ARG...]: a lab with ARGs on a port the kernel picks, its
# output in $tmp/NAME.out and NAME.err; LAB_PID (one of pids) and LAB_PORT
# name it. A lab given more ports: lab_ports $tmp/NAME.out N for all of them.
lab_start() {
	local name=$1
	shift
	"$LAB" --port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	LAB_PID=$!
	pids+=("$LAB_PID")
	# shellcheck disable=SC2034 # for the tests
	LAB_PORT=$(lab_ports "$tmp/$name.out") || fail "the lab ($name.out) did not start"
}

# lab_stopped_clean PID...: each lab exits 0 after SIGTERM (under ASan: no
# leaks either) and wrote no sanitizer report.
lab_stopped_clean() {
	local pid status
	for pid in "$@"; do
		kill "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 0 ] || fail "lab $pid exited with $status after SIGTERM"
	done
	! grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$tmp"/*.err || fail "sanitizer reports"
}

# free_port ADDR: a port free on ADDR now, from the kernel (a fixed one may be
# taken by some test's wildcard listener).
free_port() {
	python3 -c "import socket; s = socket.socket(); s.bind(('$1', 0)); print(s.getsockname()[1])"
}

# lab_sink ADDR PORT DIR: the stand-in sink (smtp_sink.py, messages in DIR,
# log in $tmp/sink.log), up before it returns.
lab_sink() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/smtp_sink.py" --listen "$1:$2" --dir "$3" \
		--banner-host sink.test 2>"$tmp/sink.log" &
	pids+=($!)
	for _ in $(seq 1 50); do
		python3 -c "import socket; socket.create_connection(('$1', $2), 1).close()" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the sink did not start"
}

# plughole_sink DB ADDR:PORT [ARG...]: 'plughole sink' on the store DB in the
# background (output in $tmp/sink.out and sink.err), listening before it
# returns; SINK_PID (one of pids) names it.
plughole_sink() {
	local db=$1 listen=$2
	shift 2
	"$PLUGHOLE" --db "$db" sink --listen "$listen" --domain sink.test "$@" >"$tmp/sink.out" 2>"$tmp/sink.err" &
	SINK_PID=$!
	pids+=("$SINK_PID")
	for _ in $(seq 100); do grep -q 'listening on' "$tmp/sink.err" && return 0; sleep 0.1; done
	fail "the sink did not start"
}
