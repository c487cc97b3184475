package sim

import (
	"fmt"
	"time"
)

// StrongConfig is one run of the strong-keyspace simulation. The fault
// schedule and each client's choices are drawn from Seed.
type StrongConfig struct {
	Seed int64
	// Members is the size of the Raft metadata group, 3 or 5, all voters.
	Members int
	// ProductionTimings runs the group with group.DefaultConfig's Raft
	// timings (one-second heartbeat and election timeouts) rather than
	// DefaultLocalConfig's short ones.
	ProductionTimings bool
	// Clients run the compare-and-set workload concurrently on Keys keys.
	Clients int
	Keys    int
	// FaultPhase is the virtual time the clients run while faults come
	// and go; FaultEvery the mean virtual time between two fault actions.
	FaultPhase time.Duration
	FaultEvery time.Duration
	// OpTimeout bounds each client operation in virtual time. An
	// operation that runs out of it has an unknown outcome.
	OpTimeout time.Duration
	// Settle bounds, in virtual time, how long the group may take after
	// the heal to elect a leader, serve the final reads and converge.
	Settle time.Duration
	// Deletes adds deletes (with the causal context of the value read) to
	// the workload.
	Deletes bool
	// UnsafeLocalReads sets group.Config.UnsafeLocalReads on every
	// member: reads are served from the member's copy, stale ones
	// included. Only the test that shows the checker catches stale reads
	// sets it.
	UnsafeLocalReads bool
	// CheckTimeout bounds the linearizability check, in real time.
	CheckTimeout time.Duration
	// Trace keeps the last Trace events and operations for a report.
	Trace int
}

// DefaultStrongConfig draws a run from seed: a group of 3 or 5 members
// with test or production Raft timings, five clients on three keys for
// thirty seconds of virtual time (a minute under production timings), with
// a fault action every 1.5 s (4 s) on average. An operation times out
// after about three election timeouts.
func DefaultStrongConfig(seed int64) StrongConfig {
	u := uint64(seed)
	c := StrongConfig{
		Seed:              seed,
		Members:           []int{3, 5}[u%2],
		ProductionTimings: (u/2)%4 == 3,
		Clients:           5,
		Keys:              3,
		FaultPhase:        30 * time.Second,
		FaultEvery:        1500 * time.Millisecond,
		OpTimeout:         time.Second,
		Settle:            30 * time.Second,
		Deletes:           true,
		CheckTimeout:      30 * time.Second,
		Trace:             60,
	}
	if c.ProductionTimings {
		c.FaultPhase, c.FaultEvery, c.OpTimeout, c.Settle = time.Minute, 4*time.Second, 3*time.Second, time.Minute
	}
	return c
}

// Validate reports the first unusable setting.
func (c StrongConfig) Validate() error {
	switch {
	case c.Members != 3 && c.Members != 5:
		return fmt.Errorf("sim: strong config: %d members, want 3 or 5", c.Members)
	case c.Clients < 1 || c.Keys < 1:
		return fmt.Errorf("sim: strong config: %d clients on %d keys, want at least one of each", c.Clients, c.Keys)
	case c.FaultPhase <= 0 || c.FaultEvery <= 0 || c.OpTimeout <= 0 || c.Settle <= 0 || c.CheckTimeout <= 0:
		return fmt.Errorf("sim: strong config: phases, intervals and timeouts must be positive")
	}
	return nil
}
