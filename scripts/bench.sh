#!/usr/bin/env bash
# bench.sh — YCSB workloads A, B and C on a local 3-node cluster of real processes.
#
#   scripts/bench.sh            (make bench)
#
# Starts 3 nodes on loopback (scripts/cluster.sh up 3: N=3, R=W=2, the default sync
# policy), loads RECORDS records into bucket default/ycsb (allow_mult false, as YCSB's
# Riak binding sets it up), runs workloads A, B and C with CLIENTS clients and
# VALUE_SIZE-byte values for DURATION each, prints one table, and stops the cluster,
# on failure and Ctrl-C too. The JSON report of each phase is kept in a temporary
# directory, named at the end.
#
#   RECORDS=100000 CLIENTS=16 VALUE_SIZE=100 DURATION=30s LOAD_DURATION=10m
#   BUCKET_PROPS='{"allow_mult":false}'   the bucket's properties (JSON), set before the load
#   STRONG=1    benchmark the strongly consistent keyspace instead: the keys go to a bucket
#               type "strong" created with {"consistent":true} (BUCKET_PROPS is not used)
#
# The nodes read any cairn flag from the environment (CAIRN_SYNC=always make bench);
# CAIRN_CLUSTER_BASE moves their ports (scripts/cluster.sh).
# Needs jq. Refuses to run while scripts/cluster.sh has a cluster up: it would stop it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
CTL="${CAIRN_BIN_DIR:-$ROOT/bin}/cairnctl"

RECORDS=${RECORDS:-100000}
CLIENTS=${CLIENTS:-16}
VALUE_SIZE=${VALUE_SIZE:-100}
DURATION=${DURATION:-30s}
LOAD_DURATION=${LOAD_DURATION:-10m}
# Each run stops at DURATION; OPS is only the bound every run must have.
OPS=${OPS:-100000000}
BUCKET=ycsb
BUCKET_PROPS=${BUCKET_PROPS:-'{"allow_mult":false}'}
STRONG=${STRONG:-}
TYPE=default

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# stat_sum EXPR PID... prints the sum over the processes of EXPR, an awk
# expression over the fields of /proc/PID/stat that follow the command name in
# parentheses: $1 is field 3 (state), $8 field 10 (minflt), $12 and $13 fields
# 14 and 15 (utime, stime).
stat_sum() {
	local expr=$1 pid total=0
	shift
	for pid in "$@"; do
		[[ -r /proc/$pid/stat ]] || continue
		total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk "{ print $expr }")))
	done
	echo "$total"
}

# cpu_ticks PID... prints the user+system clock ticks the processes have used.
cpu_ticks() { stat_sum '$12 + $13' "$@"; }

# node_pids prints the pids of the cluster's nodes.
node_pids() {
	local f pids=()
	for f in "$ROOT"/.cluster/node*/pid; do
		[[ -r $f ]] && pids+=("$(cat "$f")")
	done
	echo "${pids[*]}"
}

# bench_preflight checks what a benchmark needs before anything starts.
bench_preflight() {
	command -v jq >/dev/null || bench_die "needs jq (apt-get install jq)"
	[[ ! -d "$ROOT/.cluster" ]] || bench_die "$ROOT/.cluster exists: a cluster is up, and this script would stop it at the end; 'scripts/cluster.sh down' first"
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
}

# bench_up [ENV-ARGS...] starts the cluster, its nodes with the environment changed
# as env(1) takes it (-u NAME, NAME=VALUE), and sets NODES to its HTTP addresses,
# comma-separated, and NODE to the first.
bench_up() {
	local lines
	lines=$(env "$@" "$CLUSTER" up 3) || bench_die "the cluster did not start (ports in use? CAIRN_CLUSTER_BASE moves them; default 18098)"
	NODES=$(awk '{ sub("^http://", "", $2); print $2 }' <<<"$lines" | paste -sd, -)
	NODE=${NODES%%,*}
	[[ -n $NODE ]] || bench_die "no node address in the output of cluster.sh up: $lines"
	if [[ -n $STRONG ]]; then
		TYPE=strong
		"$CTL" --node "$NODE" bucket-type create "$TYPE" '{"props":{"consistent":true}}' >/dev/null &&
			"$CTL" --node "$NODE" bucket-type activate "$TYPE" >/dev/null ||
			bench_die "could not create the consistent bucket type $TYPE"
		return
	fi
	"$CTL" --node "$NODE" bucket props set default "$BUCKET" "$BUCKET_PROPS" >/dev/null ||
		bench_die "bucket props $BUCKET_PROPS refused"
}

bench_down() { "$CLUSTER" down 2>/dev/null || true; }

# bench_ctl NAME ARGS... runs cairnctl bench against the cluster with the common
# settings, keeps its JSON in $OUT/NAME.json and the CPU clock ticks the nodes
# used meanwhile in $OUT/NAME.ticks.
bench_ctl() {
	local name=$1 pids before
	shift
	read -r -a pids <<<"$(node_pids)"
	before=$(cpu_ticks "${pids[@]}")
	"$CTL" --node "$NODE" -o json bench --nodes "$NODES" --type "$TYPE" --bucket "$BUCKET" --records "$RECORDS" \
		--clients "$CLIENTS" --value-size "$VALUE_SIZE" --ops "$OPS" "$@" >"$OUT/$name.json" ||
		bench_die "cairnctl bench $* failed; its report is $OUT/$name.json"
	echo $(($(cpu_ticks "${pids[@]}") - before)) >"$OUT/$name.ticks"
}

# bench_cpu NAME prints the nodes' CPU time per operation of NAME's last phase
# in µs: the steadiest figure on a shared machine, where throughput varies
# from run to run far more than the work a request costs.
bench_cpu() {
	awk -v ticks="$(cat "$OUT/$1.ticks")" -v hz="$(getconf CLK_TCK)" \
		-v ops="$(jq -r '.phases[-1].total.count' "$OUT/$1.json")" \
		'BEGIN { if (ops > 0) printf "%.0f", ticks / hz * 1e6 / ops; else print "-" }'
}

# bench_load inserts the records (bounded by LOAD_DURATION, and refused if it
# did not finish: the runs would read missing keys).
bench_load() {
	echo "loading $RECORDS records" >&2
	bench_ctl "${1:-load}" --load --skip-run --duration "$LOAD_DURATION"
	local f="$OUT/${1:-load}.json"
	[[ $(jq -r '.phases[0].stopped_by' "$f") == limit ]] || bench_die "the load did not finish within $LOAD_DURATION; raise LOAD_DURATION"
	[[ $(jq -r '.phases[0].total.errors' "$f") == 0 ]] || bench_die "the load had errors: $(jq -r '.phases[0].first_error' "$f")"
}

# bench_run NAME WORKLOAD runs one workload for DURATION.
bench_run() {
	echo "workload $2 for $DURATION" >&2
	bench_ctl "$1" --workload "$2" --duration "$DURATION"
}

# bench_field NAME OP FIELD prints a figure of the last phase of NAME's report:
# OP is read, update, insert, … or total; FIELD a jq path below it. "-" when the
# phase has no such operation.
bench_field() {
	jq -r --arg op "$2" '.phases[-1] | [.ops[], .total] | map(select(.op == $op)) | first
		| if . == null then "-" else '"$3"' end' "$OUT/$1.json"
}

bench_fmt() { [[ $1 == - ]] && echo - || printf '%.0f' "$1"; }

bench_main() {
	bench_preflight
	trap bench_down EXIT
	bench_up
	bench_load load
	local w
	for w in a b c; do
		bench_run "$w" "$w"
	done
	echo
	echo "cairn $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'): 3 nodes on loopback, N=3 R=W=2, $RECORDS records," \
		"$CLIENTS clients, $VALUE_SIZE-byte values, $DURATION per workload; latency in ms"
	local row='%-9s %9s %8s %10s %10s %11s %11s %13s\n'
	# shellcheck disable=SC2059
	printf "$row" WORKLOAD OPS/S ERRORS 'READ P50' 'READ P99' 'WRITE P50' 'WRITE P99' 'CPU µs/OP'
	# shellcheck disable=SC2059
	printf "$row" load "$(bench_fmt "$(bench_field load insert .ops_per_sec)")" "$(bench_field load insert .errors)" - - \
		"$(bench_field load insert .latency_ms.p50)" "$(bench_field load insert .latency_ms.p99)" "$(bench_cpu load)"
	for w in a b c; do
		# shellcheck disable=SC2059
		printf "$row" "$w" "$(bench_fmt "$(bench_field "$w" total .ops_per_sec)")" "$(bench_field "$w" total .errors)" \
			"$(bench_field "$w" read .latency_ms.p50)" "$(bench_field "$w" read .latency_ms.p99)" \
			"$(bench_field "$w" update .latency_ms.p50)" "$(bench_field "$w" update .latency_ms.p99)" "$(bench_cpu "$w")"
	done
	echo "write: the inserts of the load, the updates of a and b (blind puts); CPU µs/OP: the three nodes' CPU time" \
		"per operation; JSON reports in $OUT"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	bench_main "$@"
fi
