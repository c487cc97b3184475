package sim

import (
	"fmt"
	"time"

	"github.com/cairnkv/cairn/node/store"
)

// Config is one simulation run. Everything random in the run is drawn from
// Seed.
type Config struct {
	Seed int64
	// Nodes is the cluster's size, 3 to 7.
	Nodes int
	// Clients run the set workload concurrently, on Keys keys.
	Clients int
	Keys    int
	// FaultPhase is the virtual time the clients run while faults come
	// and go; Settle bounds the virtual time after everything is healed
	// for read repair, hinted handoff and anti-entropy to converge.
	FaultPhase time.Duration
	Settle     time.Duration
	// FaultEvery is the mean virtual time between two fault actions.
	FaultEvery time.Duration
	// LossRate is the chance that a message is lost during the fault
	// phase.
	LossRate float64
	// Sync is the engines' durability policy; a crash loses what it had
	// not made durable. The clients write with dw=2, so that an
	// acknowledgement promises two durable copies whatever the policy.
	Sync store.SyncPolicy
	// Corrupt adds the corruption of a stored value to the faults.
	Corrupt bool
	// Deletes makes one operation in five a write and then a delete of
	// a key of its own, which must stay deleted.
	Deletes bool
	// ClockJumps moves one node's wall clock by up to ±10 s at a time
	// (its timers, which measure elapsed time, are not moved).
	ClockJumps bool
	// RingChanges adds joins and leaves to the faults: the ring starts
	// without the last node, and a planned change moves partitions by
	// ownership handoff while everything else goes on (ringchange.go).
	RingChanges bool
	// Retires adds the retirement of a node to the faults: a node that
	// left the ring and lists no transfer of its own is stopped for good
	// and its disk thrown away, as an operator decommissions one.
	Retires bool
	// BlindPuts makes one add in four a write without a causal context
	// (no read first): a sibling that must survive like any other write.
	BlindPuts bool
	// QuorumReads gives the clients' buckets read_fanout "quorum": a get
	// asks r replicas, and others only when one fails, cannot count or is
	// slow to answer; read repair covers only the replicas asked.
	// TestQuorumReadSeeds runs seeds with it; they replay byte for byte
	// as the others do (TestSameSeedSameLog runs some).
	QuorumReads bool
	// MaxOutage heals every link once some link has been cut this long
	// without a break (zero: never), so that stacked partitions cannot
	// keep the cluster apart for the whole fault phase.
	MaxOutage time.Duration
	// Trace keeps the last Trace lines of the log for a failure report.
	Trace int
	// KeepLog keeps the whole event log in Result.Log.
	KeepLog bool
	// PrintEvents prints every event to stderr as it happens: for a seed
	// that never ends, whose report would never come.
	PrintEvents bool
}

// DefaultConfig draws a run from seed: 3 to 7 nodes, the sync policy, and
// a five-second fault phase with message loss, delay and reordering,
// partitions both ways and one way, crashes (which lose what the policy
// had not made durable) and restarts, and corrupted stored values.
func DefaultConfig(seed int64) Config {
	u := uint64(seed)
	return Config{
		Seed:        seed,
		Nodes:       3 + int(u%5),
		Clients:     4,
		Keys:        4,
		FaultPhase:  5 * time.Second,
		Settle:      40 * time.Second,
		FaultEvery:  400 * time.Millisecond,
		LossRate:    0.05,
		Sync:        []store.SyncPolicy{store.SyncAlways, store.SyncInterval, store.SyncNone}[(u/5)%3],
		Corrupt:     true,
		Deletes:     true,
		ClockJumps:  true,
		RingChanges: true,
		BlindPuts:   true,
		Retires:     true,
		MaxOutage:   2 * time.Second,
		Trace:       60,
	}
}

// beforeBoundedOutages is DefaultConfig as it was before outages were
// bounded, for the regression seeds found then.
func beforeBoundedOutages(seed int64) Config {
	c := beforeRetires(seed)
	c.MaxOutage = 0
	return c
}

// beforeRetires is DefaultConfig as it was before retirements joined the
// draw, for the seeds found then.
func beforeRetires(seed int64) Config {
	c := DefaultConfig(seed)
	c.Retires = false
	return c
}

// beforeRingChanges is DefaultConfig as it was before ring changes and
// blind puts joined the draw, for the regression seeds found then.
func beforeRingChanges(seed int64) Config {
	c := beforeBoundedOutages(seed)
	c.RingChanges, c.BlindPuts = false, false
	return c
}

// withoutClockJumps is DefaultConfig as it was before clock jumps joined
// the draw, for the regression seeds found then.
func withoutClockJumps(seed int64) Config {
	c := beforeRingChanges(seed)
	c.ClockJumps = false
	return c
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	switch {
	case c.Nodes < 3 || c.Nodes > 7:
		return fmt.Errorf("sim: config: %d nodes, want 3 to 7", c.Nodes)
	case c.Clients < 1 || c.Keys < 1:
		return fmt.Errorf("sim: config: %d clients on %d keys, want at least one of each", c.Clients, c.Keys)
	case c.FaultPhase <= 0 || c.Settle <= 0 || c.FaultEvery <= 0:
		return fmt.Errorf("sim: config: phases and fault interval must be positive")
	case c.MaxOutage < 0:
		return fmt.Errorf("sim: config: negative max outage %v", c.MaxOutage)
	case c.LossRate < 0 || c.LossRate >= 1:
		return fmt.Errorf("sim: config: loss rate %v outside [0, 1)", c.LossRate)
	}
	return nil
}
