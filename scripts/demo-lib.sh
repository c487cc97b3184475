# demo-lib.sh — what scripts/demo-cluster.sh and scripts/demo.sh share about
# the Docker demo cluster of scripts/docker-compose.yml. Sourced, not run.
#
# Nodes are node1..node5; nodeI's HTTP API is published on
# 127.0.0.1:$((DEMO_PORT_BASE + I - 1)), as the compose file says.

DEMO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO_PROJECT=cairn-demo
DEMO_COMPOSE_FILE="$DEMO_ROOT/scripts/docker-compose.yml"
DEMO_PORT_BASE=28098
DEMO_NODES=(node1 node2 node3 node4 node5)
CAIRNCTL="$DEMO_ROOT/bin/cairnctl"

demo_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# compose runs docker-compose (or the compose plugin, where that is what
# the machine has) on the demo's project.
compose() {
	if command -v docker-compose >/dev/null; then
		docker-compose -p "$DEMO_PROJECT" -f "$DEMO_COMPOSE_FILE" "$@"
	elif docker compose version >/dev/null 2>&1; then
		docker compose -p "$DEMO_PROJECT" -f "$DEMO_COMPOSE_FILE" "$@"
	else
		demo_die "neither docker-compose nor 'docker compose' is installed"
	fi
}

# addr NODE prints NODE's published HTTP address, host:port.
addr() {
	local i=${1#node}
	[[ $i =~ ^[1-5]$ ]] || demo_die "no node '$1' (node1..node5)"
	echo "127.0.0.1:$((DEMO_PORT_BASE + i - 1))"
}

# ctl_on NODE ARGS... runs the host's cairnctl against NODE.
ctl_on() {
	local n=$1
	shift
	"$CAIRNCTL" --node "$(addr "$n")" --timeout 5s "$@"
}

# id_of NODE [ASK] prints NODE's member id as ASK (default node1) knows
# it, from the HTTP address NODE advertises (nodeI:8098); empty while NODE
# is not a member yet.
id_of() {
	ctl_on "${2:-node1}" -o json cluster status 2>/dev/null |
		awk -F'"' -v want="$1:8098" '$2 == "id" { id = $4 } $2 == "http_addr" && $4 == want { print id }'
}

# state_of NODE [ASK] prints NODE's member state (joining, valid, …).
state_of() {
	ctl_on "${2:-node1}" -o json cluster status 2>/dev/null |
		awk -F'"' -v want="$1:8098" '$2 == "state" { st = $4 } $2 == "http_addr" && $4 == want { print st }'
}

# wait_until SECONDS WHAT CMD... runs CMD every half second until it
# succeeds; after SECONDS it fails, naming WHAT.
wait_until() {
	local limit=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < deadline)) || {
			echo "$(basename "$0"): timed out after ${limit}s waiting for $what" >&2
			return 1
		}
		sleep 0.5
	done
}

# answers NODE: NODE's HTTP API and metadata plane answer.
answers() { ctl_on "$1" member-status >/dev/null 2>&1; }

# settled ASK VALID: ASK sees VALID valid members, a Raft leader and no
# pending transfer.
settled() {
	local js valid
	js=$(ctl_on "$1" -o json cluster status 2>/dev/null) || return 1
	valid=$(grep -cE '"state": *"valid"' <<<"$js" || true)
	[[ $valid -eq $2 ]] &&
		grep -qE '"pending_transfers": *0([^0-9]|$)' <<<"$js" &&
		grep -qE '"leader": *"n' <<<"$js"
}
