package node

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/handoff"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds a node's settings. Start from DefaultConfig.
type Config struct {
	// NodeID names this node; vnode actors are "<NodeID>/<partition>".
	// It must be persisted with the data: a node that loses its data must
	// come back under a new id so that it never reuses a clock counter.
	NodeID string
	// RingSize is the number of partitions (a power of two), fixed when the
	// cluster is created.
	RingSize int
	// Props are the properties of the default bucket type when the node
	// runs alone (New without a Metadata); its n_val is also the target
	// n_val of the ring the node claims.
	Props Props
	// Types are further bucket types and their properties when the node
	// runs alone, fixed for the node's life. With a Metadata, the metadata
	// plane's types rule and Types is not read.
	Types map[string]Props
	// MaxObjectSize bounds a value; larger puts fail with ErrTooLarge.
	MaxObjectSize int64
	// DisableReadRepair stops gets from writing the merge back to the
	// replicas they found stale, missing or corrupt (for measuring what
	// read repair costs; anti-entropy still repairs them). Reaping a
	// tombstone that every primary holds is not read repair and goes on.
	DisableReadRepair bool
	// MaxKeyLen and MaxBucketLen bound a key and a bucket name, in bytes
	// (at most the ceilings MaxKeyLen and MaxBucketLen of this package).
	// Requests naming longer ones fail with ErrBadRequest.
	MaxKeyLen    int
	MaxBucketLen int
	// WarnSiblings: a write that leaves a key with more siblings than this
	// is logged at warn level and counted (cairn_node_siblings_warned_total),
	// as Riak's warn_siblings. 0 disables the warning.
	WarnSiblings int
	// MaxSiblings: a write that would leave a key with more siblings than
	// this, and more than it had, is refused with ErrTooManySiblings, as
	// Riak's max_siblings. A write with a causal context that does not add
	// a sibling is always accepted. 0 disables the limit. It holds at the
	// coordinator of every write; replicas merging a coordinated object do
	// not refuse it, so that replicas still converge.
	MaxSiblings int
	// RequestTimeout bounds one coordinated request when the caller's
	// context has no earlier deadline.
	RequestTimeout time.Duration
	// ReplicaTimeout bounds one replica's answer within a request: a
	// replica that has not acknowledged a write by then is replaced by a
	// fallback (sloppy quorum), and a read stops waiting for it. It is at
	// most RequestTimeout.
	ReplicaTimeout time.Duration
	// ReadSpeculateAfter: a get of a bucket with read_fanout "quorum"
	// asks the replicas it has not asked yet when the r it asked have not
	// all answered within this (Cassandra's speculative retry), so that a
	// slow or silently dead replica costs this long, not ReplicaTimeout.
	ReadSpeculateAfter time.Duration
	// ReapGrace is how long a tombstone is kept after every primary holds
	// it before it is deleted (Riak's delete_mode). Negative keeps
	// tombstones forever.
	ReapGrace time.Duration
	// Handoff tunes hinted and ownership handoff: concurrency, rate,
	// batches, stall timeout, retry backoff, hint window, drop grace.
	Handoff handoff.Config
	// AAE tunes active anti-entropy: tree shape, exchange schedule and
	// concurrency, the rebuild period and rate, the window.
	AAE antientropy.Config
	// Seed seeds the node's randomness (schedule jitter); 0 draws one.
	Seed uint64
	// SyncPolicy is reported in stats (the engine enforces it).
	SyncPolicy string

	Clock    clock.Clock
	Logger   *slog.Logger
	Registry prometheus.Registerer // may be nil: no metrics exported
}

// DefaultConfig returns production defaults; NodeID must still be set.
func DefaultConfig() Config {
	return Config{
		RingSize:           64,
		Props:              DefaultProps(),
		MaxObjectSize:      50 << 20,
		MaxKeyLen:          8 << 10,
		MaxBucketLen:       MaxBucketLen,
		WarnSiblings:       25,
		MaxSiblings:        100,
		RequestTimeout:     10 * time.Second,
		ReplicaTimeout:     3 * time.Second,
		ReadSpeculateAfter: 20 * time.Millisecond,
		ReapGrace:          3 * time.Second,
		Handoff:            handoff.DefaultConfig(),
		AAE:                antientropy.DefaultConfig(),
		Clock:              clock.Real{},
		Logger:             slog.Default(),
	}
}

// DefaultLocalConfig is DefaultConfig tuned for tests: a small ring and a
// short timeout.
func DefaultLocalConfig(nodeID string) Config {
	c := DefaultConfig()
	c.NodeID = nodeID
	c.RingSize = 16
	c.RequestTimeout = 5 * time.Second
	c.ReplicaTimeout = 2 * time.Second
	c.Handoff = handoff.DefaultLocalConfig()
	c.AAE = antientropy.DefaultLocalConfig()
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("node: config: empty NodeID")
	case c.RingSize < 1 || c.RingSize&(c.RingSize-1) != 0:
		return fmt.Errorf("node: config: ring size %d is not a power of two", c.RingSize)
	case c.MaxObjectSize <= 0:
		return fmt.Errorf("node: config: max object size must be positive")
	case c.MaxKeyLen < 1 || c.MaxKeyLen > MaxKeyLen:
		return fmt.Errorf("node: config: max key length %d must be between 1 and %d bytes", c.MaxKeyLen, MaxKeyLen)
	case c.MaxBucketLen < 1 || c.MaxBucketLen > MaxBucketLen:
		return fmt.Errorf("node: config: max bucket length %d must be between 1 and %d bytes", c.MaxBucketLen, MaxBucketLen)
	case c.WarnSiblings < 0 || c.MaxSiblings < 0:
		return fmt.Errorf("node: config: sibling limits must not be negative (warn %d, max %d)", c.WarnSiblings, c.MaxSiblings)
	case c.MaxSiblings > 0 && c.WarnSiblings > c.MaxSiblings:
		return fmt.Errorf("node: config: warn siblings %d above max siblings %d", c.WarnSiblings, c.MaxSiblings)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("node: config: request timeout must be positive")
	case c.ReplicaTimeout <= 0 || c.ReplicaTimeout > c.RequestTimeout:
		return fmt.Errorf("node: config: replica timeout %v must be positive and at most the request timeout %v", c.ReplicaTimeout, c.RequestTimeout)
	case c.ReadSpeculateAfter <= 0 || c.ReadSpeculateAfter > c.ReplicaTimeout:
		return fmt.Errorf("node: config: read speculate-after %v must be positive and at most the replica timeout %v", c.ReadSpeculateAfter, c.ReplicaTimeout)
	}
	if err := c.Handoff.Validate(); err != nil {
		return fmt.Errorf("node: config: %w", err)
	}
	if err := c.AAE.Validate(); err != nil {
		return fmt.Errorf("node: config: %w", err)
	}
	switch {
	case c.Clock == nil:
		return errors.New("node: config: nil Clock")
	case c.Logger == nil:
		return errors.New("node: config: nil Logger")
	}
	if err := c.Props.Validate(); err != nil {
		return fmt.Errorf("node: config: default props: %w", err)
	}
	if c.Props.Consistent {
		return fmt.Errorf("node: config: default props: %w: the default type cannot be consistent", ErrBadProps)
	}
	for name, p := range c.Types {
		if name == "" || name == DefaultType || len(name) > MaxTypeLen {
			return fmt.Errorf("node: config: bad bucket type name %q", name)
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("node: config: bucket type %q: %w", name, err)
		}
		if p.Consistent {
			return fmt.Errorf("node: config: bucket type %q: %w: consistent types live in the metadata plane, not in node configuration", name, ErrBadProps)
		}
	}
	return nil
}
