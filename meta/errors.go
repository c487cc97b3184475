package meta

import (
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/node"
)

// Errors from applying commands. Each has a Code so that it survives a
// trip to the leader and back (see Result).
var (
	// ErrBadCommand: a command that cannot be decoded or names nothing
	// sensible (empty ids, unknown op).
	ErrBadCommand = errors.New("meta: bad command")
	// ErrNoRing: the ring has not been initialised.
	ErrNoRing = errors.New("meta: ring not initialised")
	// ErrUnknownMember: the change names a node that is not a member.
	ErrUnknownMember = errors.New("meta: unknown member")
	// ErrBadChange: a staged change that does not fit the member's state
	// (joining a valid node, leaving the last node, replacing with a node
	// that is not joining, a second change for one node).
	ErrBadChange = errors.New("meta: invalid cluster change")
	// ErrNothingStaged: plan or commit with no staged change.
	ErrNothingStaged = errors.New("meta: no staged changes")
	// ErrStaleEpoch: a commit planned against an epoch that another commit
	// has since moved past.
	ErrStaleEpoch = errors.New("meta: ring epoch changed since the plan")
	// ErrNoTransfer: completing a transfer that is not pending (already
	// completed, or replaced by a later plan).
	ErrNoTransfer = errors.New("meta: no such pending transfer")
	// ErrTypeExists: creating a bucket type that exists.
	ErrTypeExists = errors.New("meta: bucket type exists")
	// ErrTypeNotActive: the bucket type exists but is not active yet.
	ErrTypeNotActive = fmt.Errorf("meta: bucket type not active: %w", node.ErrUnknownBucketType)
	// ErrConflict: a strongly consistent write whose causal context is not
	// the current version's, or a create of a key that exists (HTTP 412).
	ErrConflict = fmt.Errorf("meta: %w", node.ErrConflict)
	// ErrNotLeader: this node does not lead and cannot forward.
	ErrNotLeader = fmt.Errorf("meta: not the leader: %w", node.ErrUnavailable)
	// ErrNoQuorum: the group could not commit or confirm leadership in
	// time (HTTP 503).
	ErrNoQuorum = fmt.Errorf("meta: no quorum: %w", node.ErrUnavailable)
)
