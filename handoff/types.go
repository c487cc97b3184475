package handoff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is what a transfer moves.
type Kind string

// Transfer kinds.
const (
	// Hinted: objects a fallback holds for a partition it does not own,
	// delivered to the owner and then dropped.
	Hinted Kind = "hinted"
	// Ownership: a whole partition copied to its next owner after a
	// committed ring change; the change completes through Raft when the
	// copy has arrived.
	Ownership Kind = "ownership"
)

// ID names a transfer. One node sends it (From); it is unique per kind,
// partition and pair of nodes.
type ID struct {
	Kind      Kind   `json:"kind"`
	Partition int    `json:"partition"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// String spells the id as kind/partition/from/to, the form the admin API
// and cairnctl take.
func (id ID) String() string {
	return fmt.Sprintf("%s/%d/%s/%s", id.Kind, id.Partition, id.From, id.To)
}

// ParseID reverses String.
func ParseID(s string) (ID, error) {
	parts := strings.SplitN(s, "/", 4)
	if len(parts) != 4 {
		return ID{}, fmt.Errorf("%w: %q: want kind/partition/from/to", ErrBadID, s)
	}
	p, err := strconv.Atoi(parts[1])
	id := ID{Kind: Kind(parts[0]), Partition: p, From: parts[2], To: parts[3]}
	if err != nil || (id.Kind != Hinted && id.Kind != Ownership) || p < 0 || id.From == "" || id.To == "" || strings.Contains(id.To, "/") {
		return ID{}, fmt.Errorf("%w: %q: want kind/partition/from/to", ErrBadID, s)
	}
	return id, nil
}

// State is where a transfer stands.
type State string

// Transfer states.
const (
	Waiting   State = "waiting"   // wanted, not started (concurrency limit, or never yet)
	Held      State = "held"      // its receiver is down: it starts when the receiver is back
	Running   State = "running"   // a worker is streaming it
	Retrying  State = "retrying"  // failed or stalled; starts again after its backoff
	Paused    State = "paused"    // an operator paused it; keeps its cursor
	Cancelled State = "cancelled" // an operator cancelled it; starts over when resumed
	// Grace: the sender owned the partition until a ring change and keeps
	// its copy for requests routed by a lagging ring until RetryAt; it
	// then hands the copy to the owner as hints and drops it.
	Grace State = "grace"
)

// Status is a transfer as an operator sees it.
type Status struct {
	ID
	State State `json:"state"`
	// Keys and Bytes count what the receiver has acknowledged, over every
	// attempt since the transfer (or its last cancel) began.
	Keys  uint64 `json:"keys"`
	Bytes uint64 `json:"bytes"`
	// TotalKeys is the sender's estimate of the partition's keys when the
	// current attempt started (0: unknown).
	TotalKeys uint64 `json:"total_keys,omitempty"`
	// Rate is bytes per second over the current attempt; ETA is the time
	// left at that rate (0: unknown).
	Rate      float64       `json:"rate_bytes_per_sec"`
	ETA       time.Duration `json:"eta_ns,omitempty"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
	// Since is when the transfer entered its state; Updated when it last
	// made progress.
	Since   time.Time `json:"since"`
	Updated time.Time `json:"updated,omitzero"`
	// RetryAt is when a retrying transfer starts again.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Action is an operator's request on one transfer.
type Action string

// Actions.
const (
	Pause  Action = "pause"
	Resume Action = "resume"
	Cancel Action = "cancel"
	// Drop deletes the objects of a hinted transfer instead of delivering
	// them: for hints an operator gives up on (the owner will be repaired
	// by anti-entropy, or is gone for good). Ownership transfers cannot
	// be dropped.
	Drop Action = "drop"
)
