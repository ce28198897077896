#!/usr/bin/env bash
# What a supervised service costs, through the real command line: N
# services (default 100) started with "daemonctl start --supervise
# --stdout --stderr -- sleep infinity", then the memory of their
# supervisors from /proc/PID/smaps_rollup (median and max of Pss and
# Private_Dirty, median Rss, in kB) and one supervisor's CPU ticks
# (utime+stime, /proc/PID/stat fields 14 and 15) and context switches
# over IDLE seconds (default 60). Then it stops them all.
#
#   bench/supervised-cost.sh [N] [IDLE]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH GOFLAGS=-buildvcs=false
N=${1:-100}
IDLE=${2:-60}
work=$(mktemp -d /tmp/supervised-cost.XXXXXX)
bin=$work/daemonctl
cleanup() {
	for i in $(seq 1 "$N"); do "$bin" stop -q -p "$work/s$i.pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
# As README's Build section: a cgo build links libc, whose threads and
# arenas cost each supervisor about 0.4 MB more.
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$bin" .
for i in $(seq 1 "$N"); do
	"$bin" start -q -p "$work/s$i.pid" --supervise --stdout "$work/s$i.out" --stderr "$work/s$i.err" -- sleep infinity
done
sync
sleep 2 # let start-up settle: measuring, not synchronising
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/smaps_rollup"; }
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "median %d max %d", v[int((NR + 1) / 2)], v[NR] }'; }
sups=()
for i in $(seq 1 "$N"); do sups+=("$(cat "$work/s$i.pid")"); done
echo "$N supervisors (daemonctl start --supervise, both logs, sleep infinity), kB:"
for k in Pss Private_Dirty Rss; do
	printf "  %-14s %s\n" "$k" "$(for p in "${sups[@]}"; do field "$k" "$p"; done | stats)"
done
one=${sups[0]}
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
t0=$(ticks "$one") c0=$(switches "$one")
sleep "$IDLE"
t1=$(ticks "$one") c1=$(switches "$one")
echo "one idle supervisor over ${IDLE}s: $((t1 - t0)) CPU ticks, $((c1 - c0)) context switches, $(ls /proc/"$one"/task | wc -l) threads"
