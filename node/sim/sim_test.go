//go:build !race

// The simulation runs without the race detector (make test runs it apart):
// under -race, the runtime crashed once inside a synctest bubble (SIGSEGV
// in the Go runtime itself), and the simulation has one goroutine
// deciding at a time by construction. rpc.StepNetwork, which it drives, is
// race-tested in node/rpc.

package sim

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seeds is how many seeds TestSeeds runs: SIM_SEEDS, or a default that
// keeps `go test ./...` within a couple of minutes on two cores;
// SIM_SEED replays one.
func seeds(t *testing.T) (first int64, n int) {
	return seedRange(t, "SIM_", 200, 10)
}

// seedRange reads the seeds to run from the environment, under prefix:
// SEED (one seed), or SEEDS (how many; def, or short under -short) from
// FIRST (1).
func seedRange(t *testing.T, prefix string, def, short int) (first int64, n int) {
	env := func(name string, parse func(string) error) {
		if s := os.Getenv(prefix + name); s != "" {
			if err := parse(s); err != nil {
				t.Fatalf("%s%s=%q: %v", prefix, name, s, err)
			}
		}
	}
	one := int64(0)
	env("SEED", func(s string) (err error) { one, err = strconv.ParseInt(s, 10, 64); n = 1; return err })
	if n == 1 {
		return one, 1
	}
	n = def
	if testing.Short() {
		n = short
	}
	first = 1
	env("SEEDS", func(s string) (err error) { n, err = strconv.Atoi(s); return err })
	env("FIRST", func(s string) (err error) { first, err = strconv.ParseInt(s, 10, 64); return err })
	return first, n
}

func TestSeeds(t *testing.T) {
	first, n := seeds(t)
	runSeeds(t, first, n, func(*Config) {})
}

// TestQuorumReadSeeds runs seeds with read_fanout "quorum" (Config.QuorumReads)
// under the same faults and checks: SIM_QUORUM_SEEDS and SIM_QUORUM_FIRST
// choose them (40 from 1 by default, 5 with -short).
func TestQuorumReadSeeds(t *testing.T) {
	first, n := seedRange(t, "SIM_QUORUM_", 40, 5)
	runSeeds(t, first, n, func(cfg *Config) { cfg.QuorumReads = true })
}

// TestFoundSeeds replays seeds that once broke an invariant, whatever
// range the other tests run: each says what it found.
func TestFoundSeeds(t *testing.T) {
	for _, seed := range []int64{
		// A node routing by an older ring handed its copies of a partition
		// the ring had given it to the old owner, as hints, and deleted
		// them: a tombstone went while a primary still held the value.
		70093,
	} {
		runSeeds(t, seed, 1, func(c *Config) { c.Retires = false }) // found before retirements were drawn
	}
}

// runSeeds runs n seeds from first, each DefaultConfig changed by adjust,
// fails at the first run that breaks an invariant or acknowledges
// nothing, and logs what the runs did.
func runSeeds(t *testing.T, first int64, n int, adjust func(*Config)) {
	start := time.Now()
	totals := map[string]int{}
	var acked, attempted, deleted, events int
	for seed := first; seed < first+int64(n); seed++ {
		cfg := DefaultConfig(seed)
		adjust(&cfg)
		cfg.PrintEvents = os.Getenv("SIM_EVENTS") != "" // every event, as it happens
		res := Run(t, cfg)
		if len(res.Violations) > 0 {
			t.Fatal(res.Report())
		}
		if res.Acked == 0 {
			t.Fatalf("seed %d: no write was acknowledged in %d attempts: the run tested nothing\n%s", seed, res.Attempted, res.Report())
		}
		for k, v := range res.Faults {
			totals[k] += v
		}
		acked += res.Acked
		attempted += res.Attempted
		deleted += res.Deleted
		events += res.Events
	}
	took := time.Since(start)
	t.Logf("%d seeds from %d in %s (%.0f seeds/min): %d writes attempted, %d acknowledged, %d deletes acknowledged, %d events; faults %v",
		n, first, took.Round(time.Millisecond), float64(n)/took.Minutes(), attempted, acked, deleted, events, totals)
}

// TestSameSeedSameLog runs one seed twice: the event logs must be the same
// byte for byte, or a failing seed could not be replayed. The quorum-read
// seeds are ones that once differed about one run in two: a handoff worker
// stopped by a new ring told its loop of its end or not at random (17),
// and a client stopped at the end of the fault phase started one more
// operation or not at random (32).
func TestSameSeedSameLog(t *testing.T) {
	for _, c := range []struct {
		seed   int64
		quorum bool
	}{{3, false}, {8, false}, {11, false}, {17, false}, {26, false}, {17, true}, {32, true}} {
		cfg := DefaultConfig(c.seed)
		cfg.QuorumReads = c.quorum
		cfg.KeepLog = true
		a := Run(t, cfg)
		b := Run(t, cfg)
		if a.Digest != b.Digest || a.Events != b.Events {
			i := 0
			for i < len(a.Log) && i < len(b.Log) && a.Log[i] == b.Log[i] {
				i++
			}
			from := max(0, i-10)
			t.Fatalf("seed %d (quorum reads %v): two runs differ at event %d of %d/%d:\nfirst run:\n  %s\nsecond run:\n  %s",
				c.seed, c.quorum, i, a.Events, b.Events, strings.Join(a.Log[from:min(i+5, len(a.Log))], "\n  "), strings.Join(b.Log[from:min(i+5, len(b.Log))], "\n  "))
		}
		if a.Delivered == 0 || a.Attempted == 0 {
			t.Fatalf("seed %d: nothing happened: %+v", c.seed, a)
		}
	}
}

// TestRegressionSeeds replays seeds that find bugs fixed since, each with
// the configuration that finds it. A seed pins a history only while the
// draw and the bytes of every message stay the same, so a change to either
// can move a bug to other seeds: each entry was checked to fail with its
// fix undone, and each bug also has a test of its own beside the fix.
func TestRegressionSeeds(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		bug string
	}{
		// A coordinator whose copy of a key was lost (here, corrupt)
		// issued a dot it had issued before, and a merge dropped an
		// acknowledged write (node/epoch.go; TestCoordActor).
		{beforeRingChanges(243), "dot reused"},
		// A tombstone reaped before a put's late replica write (a
		// fallback tried after a timeout) landed: the deleted value came
		// back (Config.reapDelay).
		{withoutClockJumps(39), "resurrected delete"},
		{withoutClockJumps(88), "resurrected delete"},
		// A retry waiting for a handoff slot was a deadline always due,
		// and the handoff loop spun without blocking: virtual time
		// stopped and the run never ended (handoff.Scheduler.Deadline;
		// TestSchedulerDeadlineWhileFull).
		{beforeRingChanges(36), "handoff loop spin"},
		{beforeRingChanges(62), "handoff loop spin"},
		// A node that left the ring kept a corrupt value in a partition
		// it had handed on: hinted handoff left it out, finished at once
		// with the partition still not empty, and started again, for
		// ever, in no time (node.handoffRunner.dropCorrupt and
		// errUndeliverable; TestHandoffDropsCorruptHint). Found before
		// outages were bounded.
		{beforeBoundedOutages(23), "corrupt hint: handoff spin"},
		{beforeBoundedOutages(34), "corrupt hint: handoff spin"},
	} {
		res := Run(t, c.cfg)
		if len(res.Violations) > 0 {
			t.Errorf("seed %d (%s):\n%s", c.cfg.Seed, c.bug, res.Report())
		}
	}
}
