#!/usr/bin/env bash
# demo.sh — a guided tour of cairn on the Docker demo cluster.
#
#   make docker && make demo    # the image, then five containers, node1..node4 in the ring
#   scripts/demo.sh             # this tour: about 30 seconds
#   make demo-down              # remove the containers and their data
#
# Six steps, each printed with the commands it runs (bin/cairnctl against the
# published ports, curl where installed) and what they answered:
#   1. write and read with quorums
#   2. stop a node and keep writing (sloppy quorum)
#   3. siblings from two clients, resolved with the causal context
#   4. start the node again and watch hinted handoff deliver
#   5. a strongly consistent bucket type refusing a stale write (412)
#   6. add the fifth node to the ring: cluster plan, commit, transfers
# The tour stops with exit status 1 at the first step that does not behave as
# described. It needs a fresh demo cluster: node5 must not be in the ring yet.
set -euo pipefail

# shellcheck source=scripts/demo-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo-lib.sh"
cd "$DEMO_ROOT"

HAVE_CURL=0
command -v curl >/dev/null && HAVE_CURL=1
# Every cairnctl below talks to node1 unless it names another --node.
export CAIRN_NODE
CAIRN_NODE=$(addr node1)
STEP="preparing"
NODE3_STOPPED=0

on_exit() {
	local rc=$?
	if ((rc != 0)); then
		echo >&2
		echo "demo.sh: FAILED in $STEP (exit $rc)." >&2
		echo "demo.sh: logs: scripts/demo-cluster.sh compose logs [nodeN]; state: bin/cairnctl --node $CAIRN_NODE cluster status" >&2
		if ((NODE3_STOPPED)); then
			echo "demo.sh: node3 is still stopped: scripts/demo-cluster.sh compose start node3" >&2
		fi
		echo "demo.sh: 'make demo-down && make demo' starts over with a fresh cluster." >&2
	fi
}
trap on_exit EXIT

# --- printing -----------------------------------------------------------

step() {
	STEP="step $1 of 6 ($2)"
	echo
	echo "=== Step $1 of 6: $2"
	echo
}

# say TEXT prints TEXT as one paragraph, wrapped at 100 columns.
say() {
	tr -s ' \n' '  ' <<<"$*" | fold -s -w 100 | sed 's/ *$//'
	echo
}

ok() { echo "  ok: $*"; }

fail() {
	echo "  FAILED: $*" >&2
	exit 1
}

# quote ARG prints ARG as a shell would need it typed.
quote() {
	if [[ $1 =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# show CMD... prints the command line as it can be typed from the
# repository root (with CAIRN_NODE=$CAIRN_NODE).
show() {
	local a line="\$"
	[[ $1 == cairnctl ]] && set -- bin/cairnctl "${@:2}"
	for a in "$@"; do
		line+=" $(quote "$a")"
	done
	echo "$line"
}

# show_loop TEXT prints a shell loop as typed.
show_loop() { echo "\$ $*"; }

# run CMD... shows CMD, runs it and prints its output (stdout and stderr)
# indented; OUT holds that output and the status is CMD's.
OUT=""
run() {
	show "$@"
	local rc=0
	OUT=$("$@" 2>&1) || rc=$?
	if [[ -n $OUT ]]; then
		sed 's/^/    /' <<<"$OUT"
	fi
	return "$rc"
}

# cairnctl is bin/cairnctl as the commands are shown; ctl runs it quietly.
cairnctl() { "$CAIRNCTL" "$@"; }
ctl() { "$CAIRNCTL" --timeout 5s "$@"; }

# dc runs docker-compose on the demo project, shown as typed.
dc() {
	if command -v docker-compose >/dev/null; then
		run docker-compose -p "$DEMO_PROJECT" -f scripts/docker-compose.yml "$@"
	else
		run docker compose -p "$DEMO_PROJECT" -f scripts/docker-compose.yml "$@"
	fi
}

# raw NODE TYPE BUCKET KEY [FLAGS...] prints the key's value (no siblings).
raw() {
	local n=$1
	shift
	ctl --node "$(addr "$n")" get "$@" --raw 2>&1 || true
}

# siblings NODE TYPE BUCKET KEY prints how many siblings the key has.
siblings() {
	ctl --node "$(addr "$1")" -o json get "$2" "$3" "$4" 2>/dev/null | grep -cE '"vtag": *"' || true
}

# context NODE TYPE BUCKET KEY prints the causal context a get returns.
context() {
	ctl --node "$(addr "$1")" -o json get "$2" "$3" "$4" 2>/dev/null |
		sed -n 's/^ *"context": *"\([^"]*\)".*/\1/p' | head -n 1
}

# stat_sum NAME sums the counter NAME of /stats over the nodes that answer.
stat_sum() {
	local n sum=0 v
	for n in "${DEMO_NODES[@]}"; do
		v=$(curl -fsS --max-time 3 "http://$(addr "$n")/stats" 2>/dev/null |
			grep -oE "\"$1\": *[0-9]+" | grep -oE '[0-9]+$') || v=0
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# --- checks the steps wait on ---------------------------------------------

# avail_of NODE: NODE's AVAIL column in node1's cluster status.
avail_of() {
	ctl cluster status 2>/dev/null | awk -v want="$1:8098" '$NF == want { print ($1 == "(C)") ? $4 : $3 }'
}
node_down() { [[ $(avail_of "$1") == down ]]; }
node_up() { answers "$1" && [[ $(avail_of "$1") == up ]]; }

# hinted_for ID: the ids of the hinted transfers to member ID node1 lists.
hinted_for() {
	ctl -o json transfers 2>/dev/null | grep -oE "\"id\": *\"hinted/[0-9]+/[^/\"]+/$1\"" | grep -oE 'hinted/[^"]+' || true
}
# hints_complete ID SINCE: hints to ID are listed and a handoff interval
# (10 s, and a little) has passed since SECONDS was SINCE.
hints_complete() { ((SECONDS - $2 >= 12)) && [[ -n $(hinted_for "$1") ]]; }

# pending_of HELD ID prints the ids among HELD (or any new hinted transfer
# to ID) that are still listed.
pending_of() {
	local now id
	now=$(hinted_for "$2")
	for id in $1 $now; do
		if grep -qxF "$id" <<<"$now"; then
			echo "$id"
		fi
	done | sort -u
}

# type_active NODE TYPE: NODE's copy of the metadata has TYPE active.
type_active() { ctl --node "$(addr "$1")" bucket-type status "$2" 2>/dev/null | grep -q "^$2 is active"; }

# --- the tour ---------------------------------------------------------------

preflight() {
	[[ -x $CAIRNCTL ]] || demo_die "no $CAIRNCTL: run 'make docker' first"
	local n
	for n in "${DEMO_NODES[@]}"; do
		answers "$n" || demo_die "$n does not answer on $(addr "$n"): start the demo cluster with 'make demo'"
	done
	for n in node1 node2 node3 node4; do
		[[ $(state_of "$n") == valid ]] || demo_die "$n is not in the ring: 'make demo' sets the cluster up"
	done
	[[ $(state_of node5) == joining ]] ||
		demo_die "node5 is already in the ring: the tour needs a fresh cluster ('make demo-down && make demo')"
	settled node1 4 || demo_die "the ring has pending transfers or no Raft leader; wait, or 'make demo-down && make demo'"
	ID3=$(id_of node3)
	ID5=$(id_of node5)
}

intro() {
	say "cairn is a Dynamo-style key-value store: every key lives on n_val = 3 replicas on a ring of 64
partitions, any node takes any request, and a write is never refused while enough nodes are up.
Conflicting writes are kept side by side (siblings) rather than silently overwritten, and a small
Raft group holds what must never diverge: the ring, bucket types, and strongly consistent keys."
	echo
	say "The cluster: five containers, node1..node4 own the ring, node5 is a member of the Raft group
that owns nothing yet. Their HTTP APIs: node1 $(addr node1), node2 $(addr node2), node3 $(addr node3),
node4 $(addr node4), node5 $(addr node5). Commands without --node talk to node1
(CAIRN_NODE=$CAIRN_NODE)."
	echo
	run cairnctl cluster status || fail "cluster status"
}

step1() {
	step 1 "write and read with quorums"
	say "A write is acknowledged once w replicas stored it, a read answers once r replicas replied;
both default to a quorum (2 of 3). Here the write waits for all three, the read is served by
another node."
	echo
	run cairnctl put default demo greeting 'hello, cairn' --w all || fail "the put with w=all was not acknowledged"
	run cairnctl --node "$(addr node4)" get default demo greeting --r quorum || fail "node4 could not read the key"
	[[ $(raw node4 default demo greeting --r quorum) == "hello, cairn" ]] || fail "node4 read something else"
	ok "written with w=all through node1, read with r=quorum through node4"
	if ((HAVE_CURL)); then
		echo
		say "The same key over Riak's HTTP API, asking every replica (r=all):"
		run curl -sS -i "http://$(addr node2)/buckets/demo/keys/greeting?r=all" || fail "curl"
		[[ $OUT == "HTTP/1.1 200"* && $OUT == *"hello, cairn" ]] || fail "GET ?r=all did not answer 200 with the value"
		ok "200 from node2 with r=all; X-Riak-Vclock is the causal context"
	fi
}

step2() {
	step 2 "stop a node and keep writing (sloppy quorum)"
	say "node3 goes away. Its partitions' writes go to the next node on the ring (a fallback), which
keeps them as hints for node3."
	echo
	NODE3_STOPPED=1
	dc stop node3 || fail "docker-compose stop node3"
	wait_until 30 "node1's gossip to report node3 down" node_down node3 || fail "node3 is not reported down"
	run cairnctl cluster status || fail "cluster status"
	[[ $OUT == *down*node3:8098* ]] || fail "cluster status does not show node3 down"
	ok "gossip reports node3 ($ID3) down"
	echo

	say "A write that demands every primary (pw=all) is refused for a key node3 is a primary of. Trying keys
until one is:"
	local i refused=""
	for i in $(seq 1 20); do
		if ! run cairnctl put default strict "key-$i" 'must reach every primary' --pw all; then
			[[ $OUT == *"503"* ]] || fail "the refusal is not a 503"
			refused="key-$i"
			break
		fi
	done
	[[ -n $refused ]] || fail "no write with pw=all was refused in 20 keys while node3 is down"
	ok "strict/$refused refused: node3 is one of its primaries (as in Riak, a refused write may still have reached some replicas)"
	echo

	say "With the default w=quorum (2 of 3, fallbacks count), twenty orders are all acknowledged:"
	local failed=0
	show_loop 'for i in $(seq 1 20); do bin/cairnctl put default orders order-$i "order $i"; done'
	for i in $(seq 1 20); do
		ctl put default orders "order-$i" "order $i" >/dev/null 2>&1 || failed=$((failed + 1))
	done
	((failed == 0)) || fail "$failed of 20 writes failed with node3 down"
	local written=$SECONDS
	ok "20 of 20 writes acknowledged with node3 down"
	show_loop 'for i in $(seq 1 20); do bin/cairnctl get default orders order-$i --raw; done'
	for i in $(seq 1 20); do
		[[ $(raw node1 default orders "order-$i") == "order $i" ]] || fail "order-$i does not read back"
	done
	ok "all 20 read back"
	echo

	say "The fallbacks list what they hold for node3 as held hinted transfers. Each node looks every
--handoff-interval (10 s): waiting until every node has looked since the writes."
	wait_until 30 "every node to list its hints for node3" hints_complete "$ID3" "$written" ||
		fail "no hints for node3 are listed"
	run cairnctl transfers || true
	HELD=$(hinted_for "$ID3")
	ok "hints for node3 held in $(wc -w <<<"$HELD") partitions"
}

step3() {
	step 3 "siblings from two clients, and their resolution"
	say "Two clients write the same key at the same time through different nodes, neither having read
it (blind writes). cairn keeps both: they are siblings, not a lost update."
	echo
	run cairnctl put default carts alice 'milk' || fail "client A's put"
	run cairnctl --node "$(addr node2)" put default carts alice 'eggs' || fail "client B's put"
	run cairnctl get default carts alice || fail "get"
	[[ $(siblings node1 default carts alice) == 2 ]] || fail "the key does not have two siblings"
	local ctx
	ctx=$(context node1 default carts alice)
	[[ -n $ctx ]] || fail "the get returned no context"
	ok "two siblings, milk and eggs"
	echo
	say "The application merges them and writes the result with the context of that read: the new value
supersedes exactly the versions the read saw."
	run cairnctl put default carts alice 'milk,eggs' --context "$ctx" || fail "the resolving put"
	run cairnctl --node "$(addr node4)" get default carts alice || fail "get"
	[[ $(raw node4 default carts alice) == "milk,eggs" ]] || fail "the key still has siblings, or another value"
	ok "one value again: milk,eggs"
}

step4() {
	step 4 "node3 comes back: hinted handoff"
	local before=0
	((HAVE_CURL)) && before=$(stat_sum hints_handed_off_total)
	dc start node3 || fail "docker-compose start node3"
	wait_until 90 "node3 to answer and gossip to report it up" node_up node3 || fail "node3 did not come back"
	NODE3_STOPPED=0
	ok "node3 is up again"
	say "Gossip tells the fallbacks; they stream their hints to node3, which merges them, then drop
their copies. Following bin/cairnctl transfers:"
	local deadline=$((SECONDS + 120)) last="-" now
	while :; do
		now=$(pending_of "$HELD" "$ID3")
		if [[ $now != "$last" ]]; then
			echo "  [$(date +%T)] hinted transfers to node3 still listed: $(wc -w <<<"$now")"
			last=$now
		fi
		[[ -z $now ]] && break
		((SECONDS < deadline)) || {
			ctl transfers >&2 || true
			fail "hints for node3 were not delivered within 120s"
		}
		sleep 0.5
	done
	run cairnctl transfers || true
	ok "every hint for node3 delivered"
	if ((HAVE_CURL)); then
		local after
		after=$(stat_sum hints_handed_off_total)
		((after > before)) || fail "hints_handed_off_total did not grow ($before -> $after)"
		ok "hints_handed_off_total over the nodes' /stats: $before -> $after"
	fi
	echo
	say "node3 holds the writes it missed: a read that needs all three primaries to have the key
(pr=all, notfound_ok=false) succeeds for every order:"
	show_loop 'for i in $(seq 1 20); do bin/cairnctl get default orders order-$i --pr all --notfound-ok false --raw; done'
	local i got
	for i in $(seq 1 20); do
		got=$(raw node1 default orders "order-$i" --pr all --notfound-ok false)
		[[ $got == "order $i" ]] || fail "order-$i is not on all three primaries: $got"
	done
	ok "all 20 orders on every primary, node3 included"
}

step5() {
	step 5 "a strongly consistent bucket type refuses a stale write"
	say "Keys of a bucket type with consistent=true live in the Raft group: reads are linearizable, and
a write must carry the context of the version it replaces."
	echo
	run cairnctl bucket-type create strong '{"consistent":true}' || fail "bucket-type create"
	run cairnctl bucket-type activate strong || fail "bucket-type activate"
	local n
	for n in "${DEMO_NODES[@]}"; do
		wait_until 30 "$n to see the type active" type_active "$n" strong || fail "$n does not see strong active"
	done
	run cairnctl put strong accounts bob '100' --if-none-match || fail "creating the key"
	run cairnctl get strong accounts bob || fail "get"
	local old
	old=$(context node1 strong accounts bob)
	[[ -n $old ]] || fail "the get returned no context"
	say "Client A updates with that context, through node4:"
	run cairnctl --node "$(addr node4)" put strong accounts bob '150' --context "$old" || fail "the update with the current context"
	say "Client B still has the old context: its write is refused."
	if run cairnctl put strong accounts bob '90' --context "$old"; then
		fail "the stale write was accepted"
	fi
	[[ $OUT == *412* ]] || fail "the stale write failed, but not with 412"
	if ((HAVE_CURL)); then
		run curl -sS -i -XPUT -H 'Content-Type: text/plain' -H "X-Riak-Vclock: $old" -d '90' \
			"http://$(addr node2)/types/strong/buckets/accounts/keys/bob" || fail "curl"
		[[ $OUT == "HTTP/1.1 412"* ]] || fail "the HTTP API did not answer 412"
	fi
	run cairnctl --node "$(addr node3)" get strong accounts bob || fail "get"
	[[ $(raw node3 strong accounts bob) == 150 ]] || fail "bob is not 150"
	ok "the stale write got 412 Precondition Failed; bob is 150, as client A wrote"
}

step6() {
	step 6 "add node5 to the ring"
	say "Ring changes are staged, planned and committed, as with riak-admin cluster. The plan shows who
gives up which partitions; the commit is one Raft entry; the partitions then move while every node
keeps serving them."
	echo
	run cairnctl cluster join "$ID5" || fail "cluster join"
	run cairnctl cluster plan || fail "cluster plan"
	run cairnctl cluster commit || fail "cluster commit"
	run cairnctl ring-status || fail "ring-status"
	run cairnctl transfers || true
	say "Waiting until every node sees the ring settled on five nodes:"
	local n
	for n in "${DEMO_NODES[@]}"; do
		wait_until 120 "$n to see the ring settled on 5 nodes" settled "$n" 5 || {
			ctl ring-status >&2 || true
			fail "the ring did not settle"
		}
	done
	run cairnctl ring-status || fail "ring-status"
	[[ $OUT == *" 0 moving"* ]] || fail "partitions are still moving"
	run cairnctl member-status || fail "member-status"
	[[ $OUT == *"Valid:5 "* ]] || fail "member-status does not show five valid members"
	ok "node5 owns its share of the ring"
	show_loop "for i in \$(seq 1 20); do bin/cairnctl --node $(addr node5) get default orders order-\$i --raw; done"
	local i
	for i in $(seq 1 20); do
		[[ $(raw node5 default orders "order-$i") == "order $i" ]] || fail "order-$i does not read back through node5"
	done
	ok "the 20 orders read back through node5 after the move"
}

main() {
	[[ $# -eq 0 ]] || {
		sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
		exit 2
	}
	preflight
	intro
	step1
	step2
	step3
	step4
	step5
	step6
	STEP="the end"
	echo
	echo "=== Done: every step behaved as described. 'make demo-down' removes the cluster and its data."
}

main "$@"
