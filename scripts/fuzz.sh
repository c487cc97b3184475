#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME (default 5s) each.
# A finding fails the run and leaves its input under testdata/fuzz, where it
# becomes a regression test once committed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "fuzz $pkg $target ($fuzztime)"
		# Go's fuzz engine can end a run with a bare "context deadline
		# exceeded" when -fuzztime expires while a worker is busy (seen on
		# a loaded 2-core machine). A real finding is written to
		# testdata/fuzz and fails the retry at once, so one retry loses no
		# bug.
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"; then
			echo "fuzz $pkg $target failed; retrying once"
			if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"; then
				status=1
			fi
		fi
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | sort)
exit $status
