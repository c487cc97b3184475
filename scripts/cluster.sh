#!/usr/bin/env bash
# cluster.sh — a local cairn cluster of N processes on loopback.
#
#   scripts/cluster.sh up [N]          build bin/cairn and bin/cairnctl (unless CAIRN_BIN_DIR is set),
#                                      start N nodes (default 3),
#                                      join them into one ring and wait until it has settled
#   scripts/cluster.sh status          each node up or down, then 'cairnctl cluster status'
#   scripts/cluster.sh stop NAME [--kill]   stop one node: SIGTERM, or SIGKILL with --kill
#   scripts/cluster.sh start NAME      restart a stopped node on its data; waits until it serves
#   scripts/cluster.sh down            stop every node and remove .cluster/
#
# Nodes are node1..nodeN. Node i (from 1) listens on HTTP BASE+i-1, RPC BASE+100+i-1,
# Raft BASE+200+i-1 and gossip BASE+300+i-1, with BASE=${CAIRN_CLUSTER_BASE:-18098}.
# Everything a node has lives in .cluster/NAME/: data/, cairn.log (stderr),
# stdout.log, pid, and args (its command line, one argument per line).
# Every line printed for a node reads: NAME HTTP-URL PID [up|down].
# The nodes share the machine's cores: each runs with GOMAXPROCS=cores/N (at least 1)
# unless GOMAXPROCS is set.
# CAIRN_CLUSTER_SECURE=1 makes 'up' secure the cluster traffic: a CA and a certificate
# per node in .cluster/tls/ (cairnctl tls) for mutual TLS on RPC and Raft, and a gossip key.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CAIRN_BIN_DIR: run the cairn and cairnctl already built there instead of
# building bin/ from this tree (how two builds are compared: each in a
# directory of its own, one benchmark run per directory).
BIN_DIR=${CAIRN_BIN_DIR:-$ROOT/bin}
CLUSTER_DIR="$ROOT/.cluster"
BASE=${CAIRN_CLUSTER_BASE:-18098}
GO=${GO:-go}
READY_TIMEOUT=60 # seconds: a node announcing itself, the ring settling
STOP_TIMEOUT=30  # seconds between SIGTERM and SIGKILL

# UP_STARTED is set once 'up' has started a process: a failure after that
# leaves the nodes running for inspection.
UP_STARTED=0

die() {
	echo "cluster.sh: $*" >&2
	if ((UP_STARTED)); then
		echo "cluster.sh: the nodes started so far are still running; logs are in $CLUSTER_DIR/*/cairn.log; 'scripts/cluster.sh down' stops them" >&2
	fi
	exit 1
}

usage() {
	sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# names prints the nodes of the cluster in order: node1, node2, …
names() {
	local d
	for d in "$CLUSTER_DIR"/node*/; do
		[[ -d $d ]] || continue
		basename "$d"
	done | sort -t e -k 2,2n
}

# read_args NAME sets ARGS to NAME's recorded command line.
read_args() {
	local a
	ARGS=()
	while IFS= read -r a; do
		ARGS+=("$a")
	done <"$CLUSTER_DIR/$1/args"
}

require_node() {
	[[ -f "$CLUSTER_DIR/$1/args" ]] || die "no node '$1' (nodes: $(names | paste -sd " " -)); run 'scripts/cluster.sh up' first"
}

# arg NAME FLAG prints the value of --FLAG in NAME's recorded command line.
arg() {
	local want=$2 prev="" a
	read_args "$1"
	for a in "${ARGS[@]}"; do
		if [[ $prev == "$want" ]]; then
			echo "$a"
			return
		fi
		prev=$a
	done
	die "$1: no $want in $CLUSTER_DIR/$1/args"
}

http_url() { echo "http://$(arg "$1" --http-addr)"; }

pid_of() { [[ -f "$CLUSTER_DIR/$1/pid" ]] && cat "$CLUSTER_DIR/$1/pid"; }

# running NAME: the recorded pid is alive and is this node's cairn (a pid
# reused by another process is not ours to signal).
running() {
	local pid
	pid=$(pid_of "$1") || return 1
	[[ -n $pid ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	ps -p "$pid" -o args= 2>/dev/null | grep -qF -- "--data-dir $CLUSTER_DIR/$1/data"
}

ctl() { "$BIN_DIR/cairnctl" "$@"; }

# ctl_any runs cairnctl against the first node that is up.
ctl_any() {
	local n
	for n in $(names); do
		if running "$n"; then
			ctl --node "$(http_url "$n")" "$@"
			return
		fi
	done
	die "no node is up"
}

build() {
	echo "building $BIN_DIR/cairn and $BIN_DIR/cairnctl" >&2
	(cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$BIN_DIR/cairn" ./cmd/cairn &&
		CGO_ENABLED=0 "$GO" build -o "$BIN_DIR/cairnctl" ./cmd/cairnctl)
}

# binaries [missing]: with CAIRN_BIN_DIR, checks that it holds both programs;
# otherwise builds them, or with "missing" only when bin/cairn is absent.
binaries() {
	if [[ -n ${CAIRN_BIN_DIR:-} ]]; then
		[[ -x $BIN_DIR/cairn && -x $BIN_DIR/cairnctl ]] || die "CAIRN_BIN_DIR=$BIN_DIR holds no cairn and cairnctl"
	elif [[ ${1:-} != missing || ! -x $BIN_DIR/cairn ]]; then
		build
	fi
}

# launch NAME: start the node with its recorded arguments in a session of
# its own (so that a Ctrl-C in this terminal does not reach it), record its
# pid and wait until it announces that it serves.
launch() {
	local name=$1 dir="$CLUSTER_DIR/$1" pid procs
	read_args "$name"
	# The nodes share this machine's cores: each gets its share of them as
	# GOMAXPROCS, as a container's CPU limit would give it, unless the
	# caller set GOMAXPROCS. With more Ps than its share, a node's idle Ps
	# spin looking for work on cores the other nodes need (make bench-wrk:
	# 12-23% less CPU per request on 2 cores with 3 nodes).
	procs=${GOMAXPROCS:-$(($(nproc) / $(names | wc -l)))}
	((procs >= 1)) || procs=1
	# setsid execs cairn in place (this shell's background jobs do not lead
	# a process group), so $! is cairn's pid.
	if command -v setsid >/dev/null; then
		GOMAXPROCS=$procs setsid "$BIN_DIR/cairn" "${ARGS[@]}" >"$dir/stdout.log" 2>>"$dir/cairn.log" </dev/null &
	else
		GOMAXPROCS=$procs "$BIN_DIR/cairn" "${ARGS[@]}" >"$dir/stdout.log" 2>>"$dir/cairn.log" </dev/null &
	fi
	pid=$!
	echo "$pid" >"$dir/pid"
	local deadline=$((SECONDS + READY_TIMEOUT))
	# -s: the background job may not have created the file yet.
	until grep -qs 'listening on http://' "$dir/stdout.log"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$dir/cairn.log" >&2 || true
			die "$name exited during start-up; its log is $dir/cairn.log"
		fi
		((SECONDS < deadline)) || die "$name did not announce itself within ${READY_TIMEOUT}s; see $dir/cairn.log"
		sleep 0.2
	done
	until curl -fsS -o /dev/null "$(http_url "$name")/ping"; do
		((SECONDS < deadline)) || die "$name does not answer /ping; see $dir/cairn.log"
		sleep 0.2
	done
}

node_id() { sed -n 's/^cairn node \([^:]*\): HTTP API listening.*/\1/p' "$CLUSTER_DIR/$1/stdout.log" | head -n 1; }

# member_state NAME ID prints ID's state as node NAME's metadata has it
# (empty while it is not a member).
member_state() {
	ctl --node "$(http_url "$1")" cluster status 2>/dev/null | awk -v id="$2" '$1 == id { print $2 }'
}

# settled NAME N: node NAME sees N valid members and no pending transfer.
settled() {
	local js valid
	js=$(ctl --node "$(http_url "$1")" cluster status -o json 2>/dev/null) || return 1
	valid=$(grep -cE '"state": *"valid"' <<<"$js" || true)
	[[ $valid -eq $2 ]] && grep -qE '"pending_transfers": *0([^0-9]|$)' <<<"$js"
}

print_node() {
	local name=$1 state=${2:-}
	echo "$name $(http_url "$name") $(pid_of "$name" || echo -)${state:+ $state}"
}

cmd_up() {
	local n=${1:-3}
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "up: N must be a positive number, got '$n'"
	if [[ -d $CLUSTER_DIR ]]; then
		local name all_up=1
		for name in $(names); do
			running "$name" || all_up=0
		done
		if ((all_up)) && [[ -n $(names) ]]; then
			echo "cluster.sh: already up" >&2
			for name in $(names); do print_node "$name"; done
			return
		fi
		die "$CLUSTER_DIR exists but not every node is up: 'scripts/cluster.sh start NAME' or 'scripts/cluster.sh down'"
	fi
	binaries
	local i name rpc1="127.0.0.1:$((BASE + 100))" gossip_key=""
	if [[ ${CAIRN_CLUSTER_SECURE:-0} == 1 ]]; then
		ctl tls init --dir "$CLUSTER_DIR/tls" >/dev/null
		for ((i = 1; i <= n; i++)); do
			ctl tls issue --dir "$CLUSTER_DIR/tls" --name "node$i" --ip 127.0.0.1 >/dev/null
		done
		gossip_key=$(head -c 32 /dev/urandom | base64)
		echo "cluster traffic secured: mutual TLS (certificates in $CLUSTER_DIR/tls) and a gossip key" >&2
	fi
	for ((i = 1; i <= n; i++)); do
		name="node$i"
		mkdir -p "$CLUSTER_DIR/$name/data"
		{
			printf '%s\n' --data-dir "$CLUSTER_DIR/$name/data" \
				--http-addr "127.0.0.1:$((BASE + i - 1))" \
				--rpc-addr "127.0.0.1:$((BASE + 100 + i - 1))" \
				--raft-addr "127.0.0.1:$((BASE + 200 + i - 1))" \
				--gossip-addr "127.0.0.1:$((BASE + 300 + i - 1))" \
				--voters 3 --log-level info
			if [[ -n $gossip_key ]]; then
				printf '%s\n' --cluster-tls-ca "$CLUSTER_DIR/tls/ca.pem" \
					--cluster-tls-cert "$CLUSTER_DIR/tls/$name.pem" \
					--cluster-tls-key "$CLUSTER_DIR/tls/$name-key.pem" \
					--gossip-key "$gossip_key"
			fi
			if ((i == 1)); then
				printf '%s\n' --bootstrap
			else
				printf '%s\n' --join "$rpc1"
			fi
		} >"$CLUSTER_DIR/$name/args"
	done
	echo "starting $n node(s) under $CLUSTER_DIR" >&2
	UP_STARTED=1
	launch node1
	for ((i = 2; i <= n; i++)); do
		launch "node$i"
	done
	if ((n > 1)); then
		local id deadline=$((SECONDS + READY_TIMEOUT))
		for ((i = 2; i <= n; i++)); do
			id=$(node_id "node$i")
			until [[ -n $(member_state node1 "$id") ]]; do
				((SECONDS < deadline)) || die "node$i ($id) never became a member; see $CLUSTER_DIR/node$i/cairn.log"
				sleep 0.2
			done
			ctl --node "$(http_url node1)" cluster join "$id" >/dev/null
		done
		ctl --node "$(http_url node1)" cluster commit >&2
	fi
	wait_settled "$n"
	for name in $(names); do print_node "$name"; done
}

# wait_settled N: every node up sees N valid members and no transfer pending.
wait_settled() {
	local n=$1 name pending deadline=$((SECONDS + READY_TIMEOUT))
	while :; do
		pending=""
		for name in $(names); do
			running "$name" || continue
			settled "$name" "$n" || pending+=" $name"
		done
		[[ -z $pending ]] && return
		((SECONDS < deadline)) || {
			ctl_any cluster status >&2 || true
			die "the ring did not settle within ${READY_TIMEOUT}s (still waiting on:$pending)"
		}
		sleep 0.2
	done
}

# stop_nodes SIGNAL NAME...: signal the named nodes that are up, then wait
# for them to exit; after STOP_TIMEOUT seconds, SIGKILL those left.
stop_nodes() {
	local sig=$1 name pid
	shift
	local -a pids=() left
	for name in "$@"; do
		if running "$name"; then
			pid=$(pid_of "$name")
			kill -s "$sig" "$pid"
			pids+=("$pid")
		fi
	done
	local deadline=$((SECONDS + STOP_TIMEOUT))
	while :; do
		left=()
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && left+=("$pid")
		done
		((${#left[@]} > 0)) || return 0
		if ((SECONDS >= deadline)); then
			echo "cluster.sh: still running after ${STOP_TIMEOUT}s, sending SIGKILL to ${left[*]}" >&2
			kill -s KILL "${left[@]}" 2>/dev/null || true
			return
		fi
		sleep 0.2
	done
}

cmd_down() {
	if [[ ! -d $CLUSTER_DIR ]]; then
		echo "cluster.sh: no cluster under $CLUSTER_DIR" >&2
		return
	fi
	local -a all=()
	local name
	for name in $(names); do
		all+=("$name")
	done
	if ((${#all[@]} > 0)); then
		stop_nodes TERM "${all[@]}"
	fi
	rm -rf "$CLUSTER_DIR"
	echo "cluster.sh: stopped every node and removed $CLUSTER_DIR" >&2
}

cmd_status() {
	[[ -d $CLUSTER_DIR ]] || die "no cluster under $CLUSTER_DIR; run 'scripts/cluster.sh up'"
	local name any=0
	for name in $(names); do
		if running "$name"; then
			print_node "$name" up
			any=1
		else
			print_node "$name" down
		fi
	done
	if ((any)); then
		echo
		ctl_any cluster status
	fi
}

cmd_stop() {
	local name=${1:-} sig=TERM
	[[ -n $name ]] || usage
	[[ ${2:-} == "" || ${2:-} == --kill ]] || die "stop: unknown option '$2' (want --kill)"
	if [[ ${2:-} == --kill ]]; then
		sig=KILL
	fi
	require_node "$name"
	if ! running "$name"; then
		echo "cluster.sh: $name is not running" >&2
		return
	fi
	stop_nodes "$sig" "$name"
	echo "$name stopped (SIG$sig)" >&2
}

cmd_start() {
	local name=${1:-}
	[[ -n $name ]] || usage
	require_node "$name"
	running "$name" && die "$name is already up (pid $(pid_of "$name"))"
	binaries missing
	# A restart joins through the other members (node1 first), never
	# bootstraps: the node keeps its id and data and rejoins by itself.
	local other join="" a skip=0
	for other in $(names); do
		[[ $other == "$name" ]] && continue
		join+="${join:+,}$(arg "$other" --rpc-addr)"
	done
	local -a kept=()
	read_args "$name"
	for a in "${ARGS[@]}"; do
		if ((skip)); then
			skip=0
			continue
		fi
		case $a in
		--bootstrap) ;;
		--join) skip=1 ;;
		*) kept+=("$a") ;;
		esac
	done
	[[ -n $join ]] && kept+=(--join "$join")
	printf '%s\n' "${kept[@]}" >"$CLUSTER_DIR/$name/args"
	launch "$name"
	print_node "$name"
}

main() {
	local cmd=${1:-}
	[[ -n $cmd ]] || usage
	shift
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status ;;
	stop) cmd_stop "$@" ;;
	start) cmd_start "$@" ;;
	-h | --help | help) usage ;;
	*) die "unknown command '$cmd' (want up, down, status, stop or start)" ;;
	esac
}

main "$@"
