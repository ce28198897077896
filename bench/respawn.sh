#!/usr/bin/env bash
# Respawn latency of daemonctl's supervisor, side by side with runit's
# runsv, s6's s6-supervise and libslack's daemon --respawn (Debian
# packages runit, s6 and daemon), on the same
# probe (bench/respawn/probe.c): from a program's exit to the next
# program's first instruction of main, over N respawns (default 200).
#
#   bench/respawn.sh [N]
#
# runsv waits a second before restarting a program that ran less than one
# second, and s6-supervise one that was not ready for a second (the probe
# reports readiness on s6's notification-fd); so every probe stays up UP
# seconds (default 1.1) before it exits, for all of them,
# and they run at the same time (their respawns interleave, each
# mostly asleep). daemonctl's supervisor, which has no such floor, also
# runs with UP=0 (back-to-back respawns) in a separate pass.
# It prints the median and p90 of each, in microseconds. Run as root or
# not; it needs gcc and Go.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH GOFLAGS=-buildvcs=false
N=${1:-200}
UP=${UP:-1.1}
work=$(mktemp -d /tmp/respawn-bench.XXXXXX)
pids=()
safe=""
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	rm -rf "$work"
	if [ -n "$safe" ]; then rm -rf "$safe"; fi
}
trap cleanup EXIT

gcc -O2 -o "$work/probe" bench/respawn/probe.c
go build -o "$work/supervisor" ./supervise/testdata/supervisor

# daemonctl's supervisor: respawn always, no delay, no limit.
daemonctl() { # name up
	local d=$work/$1
	mkdir -p "$d"
	cat >"$d/cfg.json" <<JSON
{"PIDFile":"$d/probe.pid","Umask":18,"Config":{"Name":"probe","Program":{"Path":"$work/probe","Argv":["probe"],"Env":["PROBE_FILE=$d/times","PROBE_UP=$2"]},"Respawn":{"When":1}}}
JSON
	GOMAXPROCS=1 setsid "$work/supervisor" "$d/cfg.json" 3>"$d/report" </dev/null >/dev/null 2>&1 &
	pids+=($!)
}

# runsv and s6-supervise run ./run in a service directory.
servicedir() { # name up tool [ready-fd]
	local d=$work/$1
	mkdir -p "$d"
	cp "$work/probe" "$d/run"
	local ready=()
	if [ -n "${4:-}" ]; then
		echo "$4" >"$d/notification-fd"
		ready=(PROBE_READY_FD="$4")
	fi
	env "${ready[@]}" PROBE_FILE="$d/times" PROBE_UP="$2" setsid "$3" "$d" </dev/null >/dev/null 2>&1 &
	pids+=($!)
}

# libslack's daemon refuses a program under a group- or world-writable
# directory (/tmp), so its probe lives in a private directory under
# $HOME. A run shorter than --acceptable counts as a failure, and after
# --attempts of them (at most 100) it waits --delay (at least 10 s): with
# probes up 1.1 s, 2 of 200 respawns wait 10 s more (beyond the p90).
slack() { # name up
	safe=$(mktemp -d "$HOME/.respawn-bench.XXXXXX")
	local d=$work/$1
	mkdir -p "$d"
	cp "$work/probe" "$safe/probe"
	PROBE_FILE="$d/times" PROBE_UP="$2" setsid daemon --foreground --respawn --acceptable=10 --attempts=100 --delay=10 \
		--name=respawn-bench --pidfiles="$safe" -- "$safe/probe" </dev/null >/dev/null 2>&1 &
	pids+=($!)
}

starts() { grep -c '^start' "$work/$1/times" 2>/dev/null || echo 0; }

waitfor() { # name...
	for name in "$@"; do
		while [ "$(starts "$name")" -le "$N" ]; do sleep 0.2; done
	done
}

# latencies NAME: median and p90 of start(i+1) - exit(i), in µs, over
# the first N respawns.
latencies() {
	awk '$1 == "exit" { e = $2 } $1 == "start" && e { printf "%.0f\n", ($2 - e) / 1000; e = 0 }' "$work/$1/times" |
		head -n "$N" | sort -n | awk '{ d[NR] = $1 } END { printf "%8d %8d %6d\n", d[int((NR + 1) / 2)], d[int(NR * 0.9 + 0.5)], NR }'
}

tools=(daemonctl)
daemonctl daemonctl "$UP"
if command -v runsv >/dev/null; then servicedir runsv "$UP" runsv; tools+=(runsv); else echo "runsv not installed (apt-get install runit): skipped"; fi
if command -v s6-supervise >/dev/null; then servicedir s6 "$UP" s6-supervise 3; tools+=(s6); else echo "s6-supervise not installed (apt-get install s6): skipped"; fi
if command -v daemon >/dev/null; then slack daemon "$UP"; tools+=(daemon); else echo "libslack daemon not installed (apt-get install daemon): skipped"; fi
waitfor "${tools[@]}"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
pids=()

daemonctl daemonctl-up0 0
waitfor daemonctl-up0
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
pids=()

echo "respawn latency, program exit -> next program's main (µs), $N respawns, $(nproc) CPUs"
printf "%-24s %8s %8s %6s\n" supervisor median p90 n
for t in "${tools[@]}"; do printf "%-24s %s\n" "$t (up ${UP}s)" "$(latencies "$t")"; done
printf "%-24s %s\n" "daemonctl (up 0s)" "$(latencies daemonctl-up0)"
