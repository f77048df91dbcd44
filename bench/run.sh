#!/bin/sh
# bench/run.sh - runs the supportd benchmark suite and prints a summary.
#
# What it does, on loopback only, every step bounded in time:
#   for each server (bench/echo-server, the ceiling; then ./supportd):
#     - closed loop with 100 connections for BENCH_DURATION seconds,
#     - closed loop with 1000 connections for BENCH_DURATION seconds,
#     - idle memory with BENCH_IDLE_CONNS connections (open, greet, settle);
#   each case against a freshly started server, so that every memory
#   baseline is a fresh process. Then a table and the three target ratios.
#
# Contract:
#   - Run from anywhere; works in the repository root. POSIX sh (make runs
#     it with sh). Needs bench/loadgen and bench/echo-server (built here with
#     cc if missing) and ./supportd (or $SUPPORTD_BIN); without supportd its
#     half is reported as skipped.
#   - supportd gets a fresh data dir and a permissive rate/connection
#     config in a temp dir that is removed on exit; servers started here
#     are stopped on exit, including on ^C.
#   - Exit status 0 when every case ran cleanly, 1 otherwise (targets that
#     are missed are reported, not turned into a failure status).
#
# Environment:
#   BENCH_DURATION     seconds per closed-loop case (default 10)
#   BENCH_IDLE_CONNS   connections for the idle memory case (default 10000)
#   SUPPORTD_BIN       the daemon to measure (default ./supportd)
#   BENCH_CONTENT      supportd's content root (default ., the shipped bot:
#                      every message goes through the brain's intent model,
#                      FAQ retriever and patterns); bench/content-simple is
#                      the foundation's simple pipeline with one FAQ entry
#
# Beyond POSIX it uses only ulimit -H/-S (dash, bash and busybox have them)
# and timeout(1), mkfifo(1) and mktemp(1).

# Functions run from traps and via "start_$srv" look unreachable to it:
# shellcheck disable=SC2317,SC3045

set -u

cd "$(dirname "$0")/.." || exit 1

DURATION=${BENCH_DURATION:-10}
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}
SUPPORTD=${SUPPORTD_BIN:-./supportd}
CONTENT=${BENCH_CONTENT:-.}
LOADGEN=bench/loadgen
ECHO_SERVER=bench/echo-server
READY_TIMEOUT=15	# seconds a server may take to print its listening line
STOP_TIMEOUT=10		# seconds a server may take to exit after SIGTERM

case $DURATION in
'' | *[!0-9.]* | *.*.*) echo "run.sh: BENCH_DURATION must be a number" >&2; exit 2 ;;
esac
case $IDLE_CONNS in
'' | *[!0-9]*) echo "run.sh: BENCH_IDLE_CONNS must be an integer" >&2; exit 2 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/supportd-bench.XXXXXX") || exit 1
server_pid=
reader_pid=
status=0

# Stops the server started by start_server, if any: SIGTERM, then SIGKILL
# after STOP_TIMEOUT seconds. Also stops its log reader.
stop_server() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null
		i=0
		while kill -0 "$server_pid" 2>/dev/null &&
		    [ "$i" -lt $((STOP_TIMEOUT * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			echo "run.sh: server $server_pid ignored SIGTERM; killing it" >&2
			kill -KILL "$server_pid" 2>/dev/null
		fi
		wait "$server_pid" 2>/dev/null
		server_pid=
	fi
	if [ -n "$reader_pid" ]; then
		# it ends by itself at end of stream; it only lingers when
		# nobody read its "ready" fifo (start_server timed out)
		i=0
		while kill -0 "$reader_pid" 2>/dev/null && [ "$i" -lt 20 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -TERM "$reader_pid" 2>/dev/null
		wait "$reader_pid" 2>/dev/null
		reader_pid=
	fi
}

cleanup() {
	stop_server
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Raise the open-files limit for this shell and its children: 65536, or
# the hard limit when that is lower.
hard=$(ulimit -H -n)
want=65536
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
	want=$hard
fi
ulimit -S -n "$want" 2>/dev/null ||
	echo "run.sh: could not raise ulimit -n to $want" >&2
if [ "$(ulimit -S -n)" != unlimited ] &&
    [ "$(ulimit -S -n)" -lt $((IDLE_CONNS + 64)) ]; then
	echo "run.sh: ulimit -n $(ulimit -S -n) is too low for $IDLE_CONNS connections" >&2
	exit 1
fi

# Build the bench programs if the Makefile has not.
CFLAGS_BENCH="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2"
build() { # build BINARY SOURCE
	[ -x "$1" ] && [ -z "$(find "$2" -newer "$1")" ] && return 0
	echo "run.sh: building $1" >&2
	# shellcheck disable=SC2046,SC2086
	cc $CFLAGS_BENCH -o "$1" "$2" $(pkg-config --cflags --libs libwebsockets jansson)
}
build "$LOADGEN" bench/loadgen.c || exit 1
build "$ECHO_SERVER" bench/echo_server.c || exit 1

# mawk reads pipes in large blocks unless told otherwise; the log reader
# below must see the listening line as soon as it is written.
AWK_LINES=
if awk -W version 2>&1 | grep -q mawk; then
	AWK_LINES="-W interactive"
fi

# start_server NAME PATTERN COMMAND...
# Starts COMMAND in the background with stdout and stderr going to
# $tmp/NAME.log, waits (at most READY_TIMEOUT s) for the first line that
# matches the awk regex PATTERN and carries port=NNNN, and sets server_pid
# and server_port. Returns 0, or 1 (server stopped) when no such line came.
start_server() {
	name=$1
	pattern=$2
	shift 2
	fifo=$tmp/$name.fifo
	ready=$tmp/$name.ready
	log=$tmp/$name.log
	rm -f "$fifo" "$ready"
	: >"$log"
	mkfifo "$fifo" "$ready" || return 1
	# The reader copies every line to the log and reports the port on
	# the "ready" fifo, or "exited" if the stream ends first.
	# shellcheck disable=SC2086
	awk $AWK_LINES -v logf="$log" -v ready="$ready" -v pat="$pattern" '
		{ print > logf }
		!done && $0 ~ pat {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^port=[0-9]+$/) {
					print substr($i, 6) > ready
					close(ready)
					done = 1
					break
				}
		}
		END {
			close(logf)
			if (!done) { print "exited" > ready; close(ready) }
		}
	' <"$fifo" &
	reader_pid=$!
	"$@" >"$fifo" 2>&1 &
	server_pid=$!
	server_port=$(timeout "$READY_TIMEOUT" head -n 1 "$ready")
	case $server_port in
	exited)
		echo "run.sh: $name exited before listening; its log:" >&2
		stop_server
		tail -n 20 "$log" >&2
		return 1
		;;
	'' | *[!0-9]*)
		echo "run.sh: $name did not report a listening port within ${READY_TIMEOUT}s; its log:" >&2
		stop_server
		tail -n 20 "$log" >&2
		return 1
		;;
	esac
	return 0
}

# run_case SERVER CASE MODE LOADGEN-ARGS...
# Runs loadgen against the running server; its output goes to
# $tmp/SERVER-CASE.out and is echoed. Marks the run failed on a nonzero
# loadgen status or when the server died.
run_case() {
	srv=$1
	case_name=$2
	mode=$3
	shift 3
	out=$tmp/$srv-$case_name.out
	echo "## $srv $case_name"
	timeout $((${DURATION%.*} + 120)) "$LOADGEN" --host 127.0.0.1 \
		--port "$server_port" --path /chat --mode "$mode" \
		--server-pid "$server_pid" "$@" >"$out"
	rc=$?
	cat "$out"
	if [ "$rc" -ne 0 ]; then
		echo "run.sh: loadgen exited $rc for $srv $case_name" >&2
		status=1
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "run.sh: $srv died during $case_name; its log:" >&2
		tail -n 20 "$tmp/$srv.log" >&2
		status=1
	fi
}

start_echo() {
	start_server echo '^listening port=' "$ECHO_SERVER" --port 0
}

start_supportd() {
	rm -rf "${tmp:?}/var"
	mkdir -p "$tmp/var" || return 1
	start_server supportd 'event=listening' "$SUPPORTD" serve \
		--listen 127.0.0.1 --port 0 --data-dir "$tmp/var" \
		--content "$CONTENT" --config "$tmp/bench.json"
}

cat >"$tmp/bench.json" <<'EOF'
{"max_sockets_per_ip": 100000, "chat": {"rate_per_sec": 100000, "rate_burst": 100000, "max_conn_per_ip": 100000, "max_connections": 100000, "max_events": 1000000}}
EOF

# suite SERVER MODE: the three cases, each against a fresh server. A server
# that does not start skips its remaining cases.
suite() {
	srv=$1
	mode=$2
	for c in c100 c1000 idle; do
		if ! "start_$srv"; then
			echo "run.sh: $srv cases from $c on skipped" >&2
			status=1
			return
		fi
		case $c in
		idle) run_case "$srv" "$c" "$mode" --conns "$IDLE_CONNS" --idle ;;
		*) run_case "$srv" "$c" "$mode" --conns "${c#c}" \
			--duration "$DURATION" ;;
		esac
		stop_server
	done
}

echo "# supportd benchmark: duration ${DURATION}s per case, idle ${IDLE_CONNS} connections, $(nproc) cores"
suite echo echo
if [ -x "$SUPPORTD" ]; then
	suite supportd supportd
else
	echo "run.sh: $SUPPORTD not found; supportd cases skipped" >&2
	status=1
fi

# get FILE KEY: the value of KEY in a loadgen output, or "-".
get() {
	v=
	[ -f "$1" ] && v=$(sed -n "s/^$2=//p" "$1" | head -n 1)
	echo "${v:--}"
}

# ratio A B: A/B with two decimals, or "n/a".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 <= 0) print "n/a"
		else printf "%.2f\n", a / b }'
}

# verdict VALUE OP TARGET: PASS, MISS, or "n/a".
verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		if (v == "n/a" || v == "-") { print "n/a"; exit }
		ok = (op == ">=") ? v + 0 >= t : (op == "<=") ? v + 0 <= t : v + 0 < t
		print ok ? "PASS" : "MISS" }'
}

echo
echo "# summary"
# kib_per_conn: server RSS growth per connection once all are open and
# greeted (server_idle_kib_per_conn); rss_end_kib: server RSS at the end.
fmt='%-9s %-6s %6s %11s %8s %8s %8s %7s %12s %11s\n'
# shellcheck disable=SC2059
printf "$fmt" server case conns msgs_per_s p50_ms p99_ms max_ms errors \
	kib_per_conn rss_end_kib
for srv in echo supportd; do
	for c in c100 c1000 idle; do
		f=$tmp/$srv-$c.out
		# shellcheck disable=SC2059
		printf "$fmt" "$srv" "$c" "$(get "$f" conns_greeted)" \
			"$(get "$f" msgs_per_s)" "$(get "$f" p50_ms)" \
			"$(get "$f" p99_ms)" "$(get "$f" max_ms)" \
			"$(get "$f" errors)" \
			"$(get "$f" server_idle_kib_per_conn)" \
			"$(get "$f" server_rss_end_kib)"
	done
done

r_tput=$(ratio "$(get "$tmp/supportd-c1000.out" msgs_per_s)" \
	"$(get "$tmp/echo-c1000.out" msgs_per_s)")
r_p99=$(ratio "$(get "$tmp/supportd-c100.out" p99_ms)" \
	"$(get "$tmp/echo-c100.out" p99_ms)")
idle_kib=$(get "$tmp/supportd-idle.out" server_idle_kib_per_conn)
[ "$idle_kib" = - ] && idle_kib=n/a

echo
echo "# targets"
echo "ratio_msgs_per_s_supportd_over_echo_1000=$r_tput target>=0.5 $(verdict "$r_tput" '>=' 0.5)"
echo "ratio_p99_supportd_over_echo_100=$r_p99 target<=3 $(verdict "$r_p99" '<=' 3)"
echo "supportd_idle_kib_per_conn_${IDLE_CONNS}=$idle_kib target<8 $(verdict "$idle_kib" '<' 8)"

exit "$status"
