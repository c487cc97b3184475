#!/usr/bin/env bash
# bench-matrix.sh — the evaluation matrix: the default configuration, each mechanism
# off, and each sync policy, on a local 3-node cluster; one table with the ratios of
# each row's throughput to the default's.
#
#   scripts/bench-matrix.sh      (make bench-matrix)
#
# Each row starts a fresh cluster (scripts/cluster.sh up 3) with its node setting,
# loads RECORDS records (the load's throughput is the row's insert throughput), runs
# WORKLOAD for DURATION, and stops the cluster. Settings reach the nodes through
# cairn's environment variables (every cairn flag has one: --aae is CAIRN_AAE), which
# cluster.sh passes on to the processes it starts. A mechanism without a switch is
# printed as "n/a (no switch)", not measured.
#
#   WORKLOAD=a RECORDS=100000 CLIENTS=16 VALUE_SIZE=100 DURATION=30s LOAD_DURATION=10m
#
# The defaults take about 14 minutes. Needs jq.
set -euo pipefail

# shellcheck source=scripts/bench.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench.sh"

WORKLOAD=${WORKLOAD:-a}

# The node settings the rows change: unset for every row but the one that sets it,
# whatever the caller's environment holds.
UNSET=(-u CAIRN_AAE -u CAIRN_SYNC -u CAIRN_HINT_WINDOW -u CAIRN_HANDOFF_INTERVAL -u CAIRN_READ_REPAIR -u CAIRN_CACHE_SIZE)

# Rows: name|setting, the setting being an environment assignment, empty, or a reason
# starting "n/a".
ROWS=(
	"default|"
	# Read repair runs after every get that saw a stale replica; off, anti-entropy
	# does all repair.
	"read repair off|CAIRN_READ_REPAIR=false"
	# Hinted handoff: with a hint window of 1ns, a node marked down gets no fallback
	# writes (no hints are collected for it). In a healthy cluster there are none to
	# begin with; ownership handoff is unchanged.
	"hinted handoff off|CAIRN_HINT_WINDOW=1ns"
	"anti-entropy off|CAIRN_AAE=false"
	# The row cache in front of Badger's reads.
	"row cache off|CAIRN_CACHE_SIZE=0"
	"sync always|CAIRN_SYNC=always"
	# interval is the default policy: this row measures the default again, which
	# shows how much two runs of one configuration differ.
	"sync interval|CAIRN_SYNC=interval"
	"sync none|CAIRN_SYNC=none"
)

matrix_main() {
	bench_preflight
	trap bench_down EXIT
	local i name setting
	local -a env_args
	for i in "${!ROWS[@]}"; do
		name=${ROWS[$i]%%|*}
		setting=${ROWS[$i]#*|}
		[[ $setting == n/a* ]] && continue
		echo "== $name${setting:+ ($setting)}" >&2
		env_args=("${UNSET[@]}")
		[[ -n $setting ]] && env_args+=("$setting")
		bench_up "${env_args[@]}"
		bench_load "load-$i"
		bench_run "run-$i" "$WORKLOAD"
		bench_down
	done
	trap - EXIT

	echo
	echo "cairn $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'): 3 nodes on loopback, N=3 R=W=2, $RECORDS records," \
		"$CLIENTS clients, $VALUE_SIZE-byte values, workload $WORKLOAD for $DURATION; ratios against the default; latency in ms"
	local row='%-19s %-22s %10s %7s %9s %7s %9s %10s %10s %7s\n'
	# shellcheck disable=SC2059
	printf "$row" CONFIGURATION 'NODE SETTING' 'LOAD OPS/S' RATIO "$(tr a-z A-Z <<<"$WORKLOAD") OPS/S" RATIO 'CPU µs/OP' 'READ P99' 'WRITE P99' ERRORS
	local base_load base_run load run errors
	base_load=$(bench_field load-0 insert .ops_per_sec)
	base_run=$(bench_field run-0 total .ops_per_sec)
	for i in "${!ROWS[@]}"; do
		name=${ROWS[$i]%%|*}
		setting=${ROWS[$i]#*|}
		if [[ $setting == n/a* ]]; then
			# shellcheck disable=SC2059
			printf "$row" "$name" "$setting" n/a n/a n/a n/a n/a n/a n/a n/a
			continue
		fi
		load=$(bench_field "load-$i" insert .ops_per_sec)
		run=$(bench_field "run-$i" total .ops_per_sec)
		errors=$(($(bench_field "load-$i" total .errors) + $(bench_field "run-$i" total .errors)))
		# shellcheck disable=SC2059
		printf "$row" "$name" "${setting:--}" "$(bench_fmt "$load")" "$(ratio "$load" "$base_load")" \
			"$(bench_fmt "$run")" "$(ratio "$run" "$base_run")" "$(bench_cpu "run-$i")" \
			"$(bench_field "run-$i" read .latency_ms.p99)" "$(write_p99 "run-$i")" "$errors"
	done
	echo "LOAD: inserts only; CPU µs/OP: the three nodes' CPU time per operation of the workload; WRITE P99: of the" \
		"workload's updates (or read-modify-writes, puts, inserts); JSON reports in $OUT"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# write_p99 NAME is the p99 of the run's writes, whichever kind the workload has.
write_p99() {
	local op v
	for op in update rmw put insert; do
		v=$(bench_field "$1" "$op" .latency_ms.p99)
		if [[ $v != - ]]; then
			echo "$v"
			return
		fi
	done
	echo -
}

matrix_main "$@"
