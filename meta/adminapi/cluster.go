package adminapi

import (
	"context"

	"github.com/cairnkv/cairn/meta"
)

// Cluster is what the admin API needs from the metadata plane. The Raft
// group (meta/group.Group) implements it; tests use a fake.
//
// Writes (Stage, Commit, Clear, the type calls, RemovePeer) go through the
// Raft group from any node and return once committed; they fail with an
// error wrapping node.ErrUnavailable when the group has no quorum in time.
// Reads answer from this node's copy of the state. Every method is safe
// for concurrent use; returned values are the caller's.
type Cluster interface {
	RaftStatus(ctx context.Context) (meta.RaftStatus, error)
	// RemovePeer removes a server from the Raft configuration.
	RemovePeer(ctx context.Context, id string) error

	Members(ctx context.Context) ([]meta.Member, error)
	Ring(ctx context.Context) (*meta.RingState, error)
	Staged(ctx context.Context) ([]meta.Change, error)
	// Stage adds a change; errors wrap meta.ErrBadChange,
	// meta.ErrUnknownMember.
	Stage(ctx context.Context, c meta.Change) error
	// Plan computes what committing would do (meta.ErrNothingStaged).
	Plan(ctx context.Context) (*meta.Plan, error)
	// Commit applies the plan it computes, at the epoch it computed it for
	// (meta.ErrStaleEpoch if another commit won), and returns it.
	Commit(ctx context.Context) (*meta.Plan, error)
	Clear(ctx context.Context) error

	// Types lists every bucket type, default included, sorted by name.
	Types(ctx context.Context) ([]meta.BucketType, error)
	// Type returns one (node.ErrUnknownBucketType).
	Type(ctx context.Context, name string) (meta.BucketType, error)
	// CreateType creates an inactive type from a JSON object of props
	// (meta.ErrTypeExists, node.ErrBadProps).
	CreateType(ctx context.Context, name string, props []byte) (meta.BucketType, error)
	ActivateType(ctx context.Context, name string) (meta.BucketType, error)
	UpdateType(ctx context.Context, name string, props []byte) (meta.BucketType, error)
}
