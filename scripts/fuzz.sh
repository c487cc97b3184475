#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME (default 5s) each.
# A finding fails the run and leaves its input under testdata/fuzz, where it
# becomes a regression test once committed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# coordinator_race reports whether a failed run is Go's fuzz coordinator
# race (go.dev/issue/75804, fixed in Go 1.27): when -fuzztime expires while
# a worker is busy (a loaded 2-core machine starves them), the run ends with
# a bare "context deadline exceeded", no failing input and no new file
# under testdata/fuzz.
coordinator_race() {
	local pkg=$1 before=$2
	grep -q '^    context deadline exceeded$' "$out" &&
		! grep -q 'Failing input written to' "$out" &&
		[[ "$(find "$pkg" -path '*/testdata/fuzz/*' -type f 2>/dev/null | sort | md5sum)" == "$before" ]]
}

while IFS= read -r file; do
	pkg=$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "fuzz $pkg $target ($fuzztime)"
		for attempt in 1 2; do
			before=$(find "$pkg" -path '*/testdata/fuzz/*' -type f 2>/dev/null | sort | md5sum)
			if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1 | tee "$out"; then
				break
			fi
			# Only the coordinator's race is retried, once: a finding, a
			# crash or a build failure fails the run at once.
			if [[ $attempt -eq 1 ]] && coordinator_race "$pkg" "$before"; then
				echo "fuzz $pkg $target: Go's fuzz coordinator ended the run with no finding (go.dev/issue/75804); retrying once"
				continue
			fi
			status=1
			break
		done
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | sort)
exit $status
