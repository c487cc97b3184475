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
	Get(ctx context.Context, loc Location, opts GetOptions) (*object.Object, error)
	// Put stores c at loc as a successor of opts.Context and returns the
	// merged object when opts.ReturnBody (nil otherwise).
	Put(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error)
	// Delete writes a tombstone that supersedes opts.Context (or everything
	// when the context is empty: a delete without context deletes what the
	// coordinator sees, as Riak's does).
	Delete(ctx context.Context, loc Location, opts DeleteOptions) error

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
