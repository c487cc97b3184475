package node

import (
	"context"

	"github.com/cairnkv/cairn/node/object"
)

// KV is what the HTTP API (and later the RPC forwarding path) needs from a
// node. *Node implements it; tests of the API layer may fake it.
//
// Every method is safe for concurrent use. Returned objects are owned by the
// caller.
type KV interface {
	// Get reads loc with the bucket's quorums overridden by opts. It returns
	// ErrNotFound when no replica holds a live value; if replicas hold a
	// tombstone, the tombstone object is returned with ErrNotFound so its
	// context can be shown. Errors: ErrQuorumNotMet, ErrQuorumTooLarge,
	// ErrUnknownBucketType, ErrBadRequest.
	//
	// Keys of a consistent bucket type are read and written through the
	// metadata plane, linearizably; quorum options are ignored, and a
	// plane that cannot answer in time gives ErrUnavailable.
	Get(ctx context.Context, loc Location, opts GetOptions) (*object.Object, error)
	// Put stores c at loc as a successor of opts.Context and returns the
	// merged object when opts.ReturnBody (nil otherwise). For a consistent
	// type, opts.Context must be the current version's, or the key must
	// not exist when there is no context or opts.IfNoneMatch: ErrConflict
	// otherwise.
	Put(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error)
	// Delete writes a tombstone that supersedes opts.Context (or everything
	// when the context is empty: a delete without context deletes what the
	// coordinator sees, as Riak's does). For a consistent type the context
	// must be the current version's: ErrConflict otherwise.
	Delete(ctx context.Context, loc Location, opts DeleteOptions) error

	// TypeProps returns a bucket type's properties (ErrUnknownBucketType
	// when it does not exist).
	TypeProps(ctx context.Context, typ string) (Props, error)
	// SetTypeProps merges the JSON object raw into an existing bucket
	// type's properties, through the metadata plane (ErrBadRequest for a
	// node that runs without one, ErrBadProps for an invalid result).
	SetTypeProps(ctx context.Context, typ string, raw []byte) (Props, error)
	// BucketProps returns the effective properties of a bucket.
	BucketProps(ctx context.Context, typ, bucket string) (Props, error)
	// SetBucketProps merges the JSON object raw into the bucket's properties.
	SetBucketProps(ctx context.Context, typ, bucket string, raw []byte) (Props, error)
	// ResetBucketProps returns the bucket to its type's properties.
	ResetBucketProps(ctx context.Context, typ, bucket string) error

	// ListBuckets calls fn once per bucket of the type holding at least one
	// live or tombstoned key. Expensive: it scans every local partition.
	ListBuckets(ctx context.Context, typ string, fn func(bucket string) error) error
	// ListKeys calls fn once per live key of the bucket. Expensive.
	ListKeys(ctx context.Context, typ, bucket string, fn func(key string) error) error

	// Stats returns a snapshot of the node's counters.
	Stats() Stats
}
