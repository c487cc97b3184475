//go:build !race

package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// strongSeeds is how many seeds TestStrongSeeds runs: SIM_STRONG_SEEDS,
// or a default that keeps `go test ./node/sim/` well within a minute on
// one core; SIM_STRONG_SEED replays one (its schedule and workload).
func strongSeeds(t *testing.T) (first int64, n int) {
	return seedRange(t, "SIM_STRONG_", 40, 5)
}

// Thresholds below which a seed's history is too thin to mean anything.
const (
	minAckedWrites = 20
	minReads       = 20
)

func TestStrongSeeds(t *testing.T) {
	first, n := strongSeeds(t)
	start := time.Now()
	totals := map[string]int{}
	var reads, acked, refused, unknown, failedReads int
	for seed := first; seed < first+int64(n); seed++ {
		res := RunStrong(t, DefaultStrongConfig(seed))
		if len(res.Violations) > 0 {
			t.Fatal(res.Report())
		}
		if res.Ops.Acked < minAckedWrites || res.Ops.Reads < minReads {
			t.Fatalf("seed %d: history too thin to mean anything (%s; want at least %d applied writes and %d reads)\n%s",
				seed, res.Ops, minAckedWrites, minReads, res.Report())
		}
		for k, v := range res.Faults {
			totals[k] += v
		}
		reads += res.Ops.Reads
		acked += res.Ops.Acked
		refused += res.Ops.Refused
		unknown += res.Ops.Unknown
		failedReads += res.FailedReads
		if testing.Verbose() {
			t.Logf("seed %d: %d members, %s, %d failed reads, %v virtual", seed, res.Config.Members, res.Ops, res.FailedReads, res.Virtual.Round(time.Millisecond))
		}
	}
	took := time.Since(start)
	t.Logf("%d strong seeds from %d in %s (%.1f seeds/min): %d reads, %d writes applied, %d refused, %d unknown, %d failed reads; faults %v",
		n, first, took.Round(time.Millisecond), float64(n)/took.Minutes(), reads, acked, refused, unknown, failedReads, totals)
}

// TestStrongSameSeedSameSchedule runs one seed twice: the fault schedules
// must be the same line for line. Raft's own timing is not replayed (see
// the package doc), so the histories may differ.
func TestStrongSameSeedSameSchedule(t *testing.T) {
	cfg := DefaultStrongConfig(7)
	a, b := RunStrong(t, cfg), RunStrong(t, cfg)
	if !slices.Equal(a.Schedule, b.Schedule) {
		t.Fatalf("seed %d: schedules differ:\nfirst run:\n  %v\nsecond run:\n  %v", cfg.Seed, a.Schedule, b.Schedule)
	}
	if len(a.Schedule) == 0 {
		t.Fatalf("seed %d: no fault injected", cfg.Seed)
	}
}

// TestStrongCheckCatchesStaleReads runs seeds with reads served from each
// member's own copy: some seed must give a history the checker rejects,
// or a passing TestStrongSeeds would prove nothing.
func TestStrongCheckCatchesStaleReads(t *testing.T) {
	for seed := int64(1); seed <= 10; seed++ {
		cfg := DefaultStrongConfig(seed)
		cfg.UnsafeLocalReads = true
		res := RunStrong(t, cfg)
		if res.Check == porcupine.Illegal {
			t.Logf("seed %d: stale reads caught:\n%s", seed, res.Report())
			return
		}
		t.Logf("seed %d: %s checked %s", seed, res.Ops, res.Check)
	}
	t.Fatal("no seed's history with stale local reads was found not linearizable")
}
