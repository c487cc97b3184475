package group

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node"
)

// Config holds a group member's settings. Start from DefaultConfig.
type Config struct {
	// NodeID is the node's id, also its Raft server id.
	NodeID string
	// RaftAddr is where Raft listens; RaftAdvertise is the address others
	// dial (RaftAddr when empty).
	RaftAddr      string
	RaftAdvertise string
	// RPCAddr and HTTPAddr are this node's advertised internal RPC and
	// HTTP addresses, recorded in its member entry. Followers forward
	// writes to the leader's RPCAddr.
	RPCAddr  string
	HTTPAddr string
	// GossipAddr is this node's advertised gossip address, recorded so
	// that nodes joining later find the cluster's memberlist.
	GossipAddr string

	// Bootstrap makes this node create a one-voter group if it has no Raft
	// state yet. Exactly one node of a new cluster bootstraps.
	Bootstrap bool
	// Join lists the RPC addresses of existing members. A node with no
	// Raft state asks them (in turn, until one succeeds) to add it as a
	// non-voter.
	Join []string

	// Voters is the number of voters the reconciler maintains (odd: 1, 3, 5
	// or 7) by promoting healthy non-voters.
	Voters int
	// RingSize and TargetN are used when this node initialises the ring
	// (once, as the first leader of a bootstrapped group).
	RingSize int
	TargetN  int
	// DefaultProps are the properties of the default bucket type.
	DefaultProps node.Props

	// ApplyTimeout bounds a write or a linearizable read when the caller's
	// context has no earlier deadline: without a quorum it fails with
	// meta.ErrNoQuorum after at most this long.
	ApplyTimeout time.Duration
	// ReconcileInterval is how often the leader's reconciler looks at the
	// voters; DeadServerThreshold how long a voter may miss heartbeats
	// before a healthy non-voter replaces it; StabilizationTime how long a
	// non-voter must have been healthy before it is promoted.
	ReconcileInterval   time.Duration
	DeadServerThreshold time.Duration
	StabilizationTime   time.Duration
	// JoinRetry is the pause between join attempts.
	JoinRetry time.Duration

	// Raft timing (see hashicorp/raft's Config).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	SnapshotInterval   time.Duration
	SnapshotThreshold  uint64
	TrailingLogs       uint64

	// UnsafeLocalReads serves strongly consistent reads from this node's
	// copy without confirming leadership: stale reads. It exists only so
	// that the linearizability test can show its checker catches them.
	// Never set it in production.
	UnsafeLocalReads bool

	Clock  clock.Clock
	Logger *slog.Logger
}

// DefaultConfig returns production settings; NodeID and the addresses
// must still be set.
func DefaultConfig() Config {
	return Config{
		Voters:              3,
		RingSize:            64,
		TargetN:             3,
		DefaultProps:        node.DefaultProps(),
		ApplyTimeout:        5 * time.Second,
		ReconcileInterval:   2 * time.Second,
		DeadServerThreshold: 10 * time.Second,
		StabilizationTime:   5 * time.Second,
		JoinRetry:           time.Second,
		HeartbeatTimeout:    1000 * time.Millisecond,
		ElectionTimeout:     1000 * time.Millisecond,
		LeaderLeaseTimeout:  500 * time.Millisecond,
		CommitTimeout:       50 * time.Millisecond,
		SnapshotInterval:    120 * time.Second,
		SnapshotThreshold:   8192,
		TrailingLogs:        10240,
		Clock:               clock.Real{},
		Logger:              slog.Default(),
	}
}

// DefaultLocalConfig is DefaultConfig with the short timeouts tests and a
// loopback cluster want.
func DefaultLocalConfig(id string) Config {
	c := DefaultConfig()
	c.NodeID = id
	c.RingSize = 16
	c.ApplyTimeout = 2 * time.Second
	c.ReconcileInterval = 50 * time.Millisecond
	c.DeadServerThreshold = time.Second
	c.StabilizationTime = 100 * time.Millisecond
	c.JoinRetry = 50 * time.Millisecond
	c.HeartbeatTimeout = 300 * time.Millisecond
	c.ElectionTimeout = 300 * time.Millisecond
	c.LeaderLeaseTimeout = 200 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("group: config: empty NodeID")
	case c.RaftAddr == "":
		return errors.New("group: config: empty RaftAddr")
	case c.Voters < 1 || c.Voters > 7 || c.Voters%2 == 0:
		return fmt.Errorf("group: config: voters must be 1, 3, 5 or 7, got %d", c.Voters)
	case c.RingSize < 1 || c.RingSize&(c.RingSize-1) != 0:
		return fmt.Errorf("group: config: ring size %d is not a power of two", c.RingSize)
	case c.TargetN < 1:
		return fmt.Errorf("group: config: target n_val must be at least 1")
	case c.ApplyTimeout <= 0, c.ReconcileInterval <= 0, c.DeadServerThreshold <= 0, c.JoinRetry <= 0:
		return errors.New("group: config: timeouts and intervals must be positive")
	case c.Bootstrap && len(c.Join) > 0:
		return errors.New("group: config: bootstrap and join are exclusive: bootstrap the first node, join the others to it")
	case c.Clock == nil:
		return errors.New("group: config: nil Clock")
	case c.Logger == nil:
		return errors.New("group: config: nil Logger")
	}
	if err := c.DefaultProps.Validate(); err != nil {
		return fmt.Errorf("group: config: default props: %w", err)
	}
	return nil
}

func (c Config) advertise() string {
	if c.RaftAdvertise != "" {
		return c.RaftAdvertise
	}
	return c.RaftAddr
}
