package node

import (
	"context"

	"github.com/cairnkv/cairn/node/object"
)

// Metadata is the cluster-wide store of bucket types, bucket properties
// and the keys of strongly consistent (consistent: true) bucket types: the
// Raft metadata plane (package meta) in a cluster, or LocalMetadata for a
// node that runs alone.
//
// Reads of properties are local and may lag the cluster by the time a
// Raft entry takes to reach this node; writes go through the group and
// return once committed. Strong operations are linearizable. Every method
// is safe for concurrent use and returns objects the caller owns.
type Metadata interface {
	// TypeProps returns a bucket type's properties: ErrUnknownBucketType
	// when it does not exist or is not active yet.
	TypeProps(typ string) (Props, error)
	// BucketProps returns a bucket's effective properties: its overrides,
	// or its type's.
	BucketProps(typ, bucket string) (Props, error)
	// SetTypeProps merges the JSON object raw into an existing type's
	// properties (Riak's PUT /types/T/props). ErrBadProps when the result
	// is invalid or changes what may not change (consistent; n_val of an
	// active consistent type).
	SetTypeProps(ctx context.Context, typ string, raw []byte) (Props, error)
	// SetBucketProps merges raw into the bucket's properties. A bucket may
	// not change its type's consistent or (for consistent types) n_val.
	SetBucketProps(ctx context.Context, typ, bucket string, raw []byte) (Props, error)
	// ResetBucketProps returns the bucket to its type's properties.
	ResetBucketProps(ctx context.Context, typ, bucket string) error

	// StrongGet reads a key of a consistent type, linearizably. It returns
	// ErrNotFound when the key is absent, and the tombstone with
	// ErrNotFound when it was deleted (so its context can be shown).
	StrongGet(ctx context.Context, loc Location) (*object.Object, error)
	// StrongPut writes a key of a consistent type. With opts.IfNoneMatch,
	// or without a context, the key must be absent (or deleted); with a
	// context, the context must be the current version's. Otherwise
	// ErrConflict. It returns the object after the write.
	StrongPut(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error)
	// StrongDelete deletes a key of a consistent type; opts.Context must
	// be the current version's (ErrConflict otherwise, ErrNotFound when
	// the key is absent or already deleted).
	StrongDelete(ctx context.Context, loc Location, opts DeleteOptions) error
	// StrongList calls fn for each live key of a consistent bucket, in
	// key order, from this node's copy of the state.
	StrongList(ctx context.Context, typ, bucket string, fn func(key string) error) error
}
