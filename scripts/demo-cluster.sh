#!/usr/bin/env bash
# demo-cluster.sh — the five-node cairn demo cluster in Docker.
#
#   scripts/demo-cluster.sh up         start scripts/docker-compose.yml (image cairn:dev, built by
#                                      'make docker'), join node2..node4 to node1's ring, commit,
#                                      wait until every node sees it settled, print the cluster status
#   scripts/demo-cluster.sh down       stop the cluster and delete its volumes (its data)
#   scripts/demo-cluster.sh compose ARGS...   docker-compose on the demo project, e.g. 'compose logs node3'
#
# node5 joins the metadata plane (Raft, gossip) but not the ring: scripts/demo.sh
# adds it with a cluster plan/commit. The nodes' HTTP APIs are published on
# loopback: node1 127.0.0.1:28098, node2 :28099, … node5 :28102. 'up' on a
# cluster that is already up only waits for it to settle and prints its status.
set -euo pipefail

# shellcheck source=scripts/demo-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo-lib.sh"

UP_TIMEOUT=90 # seconds: containers answering, members joining, the ring settling

usage() {
	sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

fail_up() {
	echo "demo-cluster.sh: $*" >&2
	echo "demo-cluster.sh: the containers are left running; see 'scripts/demo-cluster.sh compose logs'," \
		"'scripts/demo-cluster.sh compose ps'; 'make demo-down' removes them" >&2
	exit 1
}

cmd_up() {
	docker info >/dev/null 2>&1 || demo_die "the Docker engine does not answer ('docker info' fails)"
	docker image inspect cairn:dev >/dev/null 2>&1 || demo_die "no image cairn:dev: run 'make docker' first"
	[[ -x $CAIRNCTL ]] || demo_die "no $CAIRNCTL: run 'make docker' (or 'make build') first"

	echo "starting the demo cluster (project $DEMO_PROJECT, $DEMO_COMPOSE_FILE)" >&2
	compose up -d >&2

	local n
	for n in "${DEMO_NODES[@]}"; do
		wait_until "$UP_TIMEOUT" "$n to answer on $(addr "$n")" answers "$n" || fail_up "$n does not answer"
	done
	for n in "${DEMO_NODES[@]}"; do
		wait_until "$UP_TIMEOUT" "$n to join the metadata plane" has_id "$n" || fail_up "$n never became a member"
	done

	local staged=0 st
	for n in node2 node3 node4; do
		st=$(state_of "$n")
		if [[ $st == joining ]]; then
			ctl_on node1 cluster join "$(id_of "$n")" >&2
			staged=1
		fi
	done
	if ((staged)); then
		ctl_on node1 cluster commit >&2
	fi

	local valid
	valid=$(ctl_on node1 -o json cluster status | grep -cE '"state": *"valid"' || true)
	for n in "${DEMO_NODES[@]}"; do
		wait_until "$UP_TIMEOUT" "$n to see the ring settled on $valid nodes" settled "$n" "$valid" ||
			fail_up "the ring did not settle"
	done
	echo
	echo "The demo cluster is up. Each node's HTTP API (Riak's, and /admin for cairnctl):"
	for n in "${DEMO_NODES[@]}"; do
		echo "  $n  http://$(addr "$n")"
	done
	echo
	echo "\$ bin/cairnctl --node $(addr node1) cluster status"
	ctl_on node1 cluster status
	echo
	echo "Next: scripts/demo.sh (a guided tour), or bin/cairnctl --node $(addr node1) …; 'make demo-down' removes it all."
}

has_id() { [[ -n $(id_of "$1") ]]; }

cmd_down() {
	compose down -v --remove-orphans
}

main() {
	local cmd=${1:-}
	[[ -n $cmd ]] || usage
	shift
	case $cmd in
	up) cmd_up ;;
	down) cmd_down ;;
	compose) compose "$@" ;;
	-h | --help | help) usage ;;
	*) demo_die "unknown command '$cmd' (want up, down or compose)" ;;
	esac
}

main "$@"
