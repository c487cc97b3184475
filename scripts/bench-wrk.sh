#!/usr/bin/env bash
# bench-wrk.sh — PUT and GET throughput of a local 3-node cluster under wrk, the way
# other stores' figures on this machine were measured: a load generator written in C,
# so that the client's own CPU takes as little as it can from the nodes'.
#
#   scripts/bench-wrk.sh        (make bench-wrk)
#
# Starts 3 nodes (scripts/cluster.sh up 3: N=3, R=W=2, the default sync policy), loads
# RECORDS records with cairnctl bench, then runs blind PUTs and GETs of random keys
# for DURATION each: one wrk process per node, CLIENTS connections in all. Prints
# requests/s, errors, p50/p99 (the worst node's p99), the CPU time the three nodes
# (from /proc) and the load generators (from the shell's times) spent per request,
# the nodes' read and write system calls per request (/proc/PID/io), and their group
# commits (fsyncs), minor page faults and run-queue waits per request
# (cairn_store_syncs_total, /proc/PID/stat, /proc/PID/task/*/schedstat), then stops
# the cluster.
#
#   RECORDS=10000 CLIENTS=16 VALUE_SIZE=100 DURATION=20s
#   BUCKET_PROPS='{"allow_mult":false}'   the bucket's properties (JSON), as scripts/bench.sh
#               takes them: '{"allow_mult":false,"read_fanout":"quorum"}' reads r replicas
#   STRONG=1    the strongly consistent keyspace (scripts/bench.sh): linearizable GETs, and
#               PUTs that each create a new key (a consistent type refuses a write without
#               the causal context of the value it replaces)
#
# Needs wrk (apt-get install wrk) and jq.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=${RECORDS:-10000}
DURATION=${DURATION:-20s}
# shellcheck source=scripts/bench.sh
source "$ROOT/scripts/bench.sh"

command -v wrk >/dev/null || bench_die "needs wrk (apt-get install wrk)"

# io_calls FIELD PID... prints the sum of FIELD (syscr: read system calls,
# syscw: write system calls) of /proc/PID/io over the processes.
io_calls() {
	local field=$1 pid total=0
	shift
	for pid in "$@"; do
		[[ -r /proc/$pid/io ]] || continue
		total=$((total + $(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/io")))
	done
	echo "$total"
}

# minor_faults PID... prints the minor page faults the processes have taken
# (field 10 of /proc/PID/stat): each first touch of a page, and each write to a
# page of a mapped file after an fsync cleaned it. On a virtual machine whose
# page tables the hypervisor shadows, each costs some 10 µs.
minor_faults() { stat_sum '$8' "$@"; }

# run_queue_wait PID... prints how long, in µs, the processes' threads have waited
# for a CPU while runnable (field 2 of /proc/PID/task/TID/schedstat): on a
# machine with fewer cores than busy processes, each wakeup of a node (a
# request, a reply, an fsync's end) can wait behind another process's thread,
# and those waits are where most of the latency tail comes from. Threads that
# exited meanwhile are not counted. Prints - where the kernel keeps no such
# figures.
run_queue_wait() {
	local pid
	for pid in "$@"; do
		cat "/proc/$pid/task/"*/schedstat 2>/dev/null || true
	done | awk '{ w += $2 } END { if (NR == 0) print "-"; else printf "%.0f", w / 1000 }'
}

# node_syncs prints the group commits (fsync rounds) the nodes have run, from
# cairn_store_syncs_total in their /metrics.
node_syncs() {
	local n nodes total=0 v
	IFS=, read -r -a nodes <<<"$NODES"
	for n in "${nodes[@]}"; do
		v=$(curl -fsS "http://$n/metrics" | awk '$1 == "cairn_store_syncs_total" { printf "%.0f", $2 }') ||
			bench_die "no /metrics from $n"
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# wrk_phase OP runs one wrk per node with OP (get or put) and prints a table row.
wrk_phase() {
	local op=$1 i=0 n f nodes pids=() wpids=() files=() conns before after reads writes syncs faults waited after_waited
	IFS=, read -r -a nodes <<<"$NODES"
	read -r -a pids <<<"$(node_pids)"
	before=$(cpu_ticks "${pids[@]}")
	waited=$(run_queue_wait "${pids[@]}")
	reads=$(io_calls syscr "${pids[@]}")
	writes=$(io_calls syscw "${pids[@]}")
	syncs=$(node_syncs)
	faults=$(minor_faults "${pids[@]}")
	for n in "${nodes[@]}"; do
		conns=$((CLIENTS / ${#nodes[@]} + (i < CLIENTS % ${#nodes[@]} ? 1 : 0)))
		files+=("$OUT/wrk-$op-$i.txt")
		# times: the subshell's children's CPU, wrk's, on its second line
		(
			OP=$op RECORDS=$RECORDS TYPE=$TYPE BUCKET=$BUCKET VALUE_SIZE=$VALUE_SIZE FRESH=${STRONG:+1} WRK_ID=$i \
				wrk -t1 -c"$conns" -d"$DURATION" --timeout 5s -s "$ROOT/scripts/wrk/kv.lua" "http://$n"
			times >"${files[-1]}.times" # a builtin, not in a pipe: a pipe's subshell has no children
		) >"${files[-1]}" 2>&1 &
		wpids+=($!)
		i=$((i + 1))
	done
	wait "${wpids[@]}" || bench_die "wrk failed: $(cat "${files[@]}")"
	after=$(cpu_ticks "${pids[@]}")
	after_waited=$(run_queue_wait "${pids[@]}")
	if [[ $waited == - || $after_waited == - ]]; then waited=-; else waited=$((after_waited - waited)); fi
	reads=$(($(io_calls syscr "${pids[@]}") - reads))
	writes=$(($(io_calls syscw "${pids[@]}") - writes))
	syncs=$(($(node_syncs) - syncs))
	faults=$(($(minor_faults "${pids[@]}") - faults))
	for f in "${files[@]}"; do sed -n '2s/^/TIMES /p' "$f.times" >>"$f"; done
	cat "${files[@]}" | awk -v op="$op" -v node_ticks=$((after - before)) -v reads="$reads" -v writes="$writes" -v syncs="$syncs" -v faults="$faults" -v waited="$waited" \
		-v hz="$(getconf CLK_TCK)" -v secs="${DURATION%s}" '
		function dur(s,   m) { m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s); sub(/s$/, "", s); return m * 60 + s }
		/^WRK / { rps += $2; status += $3; sock += $4; if ($5 > p50) p50 = $5; if ($6 > p99) p99 = $6; n++ }
		/^TIMES / { wrk_secs += dur($2) + dur($3) }
		END {
			if (n == 0) { print op ": no wrk report" > "/dev/stderr"; exit 1 }
			reqs = rps * secs
			printf "%-5s %9.0f %8d %8d %9.2f %9.2f %14.0f %14.0f %8.1f %8.1f %8.2f %8.2f %10s\n", op, rps, status, sock, p50 / 1000, p99 / 1000,
				node_ticks / hz * 1e6 / reqs, wrk_secs * 1e6 / reqs, reads / reqs, writes / reqs, syncs / reqs, faults / reqs, waited == "-" ? "-" : sprintf("%.0f", waited / reqs)
		}'
}

main() {
	bench_preflight
	trap bench_down EXIT
	bench_up
	bench_load load
	echo "wrk: put and get for $DURATION each" >&2
	local rows keyspace="N=3 R=W=2"
	[[ -z $STRONG ]] || keyspace="the strongly consistent keyspace (Raft, 3 voters)"
	rows=$(wrk_phase put; wrk_phase get)
	echo
	echo "cairn $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'): 3 nodes on loopback, $keyspace, $RECORDS records," \
		"$CLIENTS wrk connections, $VALUE_SIZE-byte values, $DURATION per operation; latency in ms (p50, p99: the worst node's)"
	printf '%-5s %9s %8s %8s %9s %9s %14s %14s %8s %8s %8s %8s %10s\n' OP REQ/S NON-2XX SOCKERR P50 P99 'NODES CPU µs' 'WRK CPU µs' READS WRITES FSYNCS FAULTS 'RQWAIT µs'
	echo "$rows"
	echo "NODES CPU µs: the three nodes' CPU time per request; WRK CPU µs: the load generators'; READS, WRITES: the nodes'" \
		"read and write system calls per request (each write to a socket wakes another process); FSYNCS: the nodes' group commits" \
		"per request (cairn_store_syncs_total), each an fsync of the storage engine's log; FAULTS: the nodes' minor page faults" \
		"per request (/proc/PID/stat); RQWAIT µs: the time the nodes' threads spent runnable but waiting for a CPU, per request" \
		"(/proc/PID/task/*/schedstat). Raw output in $OUT"
}

main "$@"
