package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// ListBuckets implements KV. It scans every partition this node owns, so
// its cost grows with the number of keys stored: an operator's tool, not a
// request path. The buckets of a consistent type cannot be listed
// (ErrBadRequest).
func (n *Node) ListBuckets(ctx context.Context, typ string, fn func(bucket string) error) error {
	if err := n.admit(); err != nil {
		return err
	}
	defer n.bg.Done()
	tp, err := n.md.TypeProps(typ)
	if err != nil {
		return err
	}
	if tp.Consistent {
		// Its keys live in the metadata plane, which lists keys by bucket
		// only: scanning the vnodes would answer an empty list.
		return fmt.Errorf("%w: cannot list the buckets of consistent bucket type %q", ErrBadRequest, typ)
	}
	seen := map[string]bool{}
	return n.scan(ctx, appendPart(nil, typ), func(loc Location) error {
		if seen[loc.Bucket] {
			return nil
		}
		seen[loc.Bucket] = true
		return fn(loc.Bucket)
	})
}

// ListKeys implements KV: every key of the bucket whose replicas, merged,
// hold a live value, each once. As expensive as ListBuckets, and more: each
// key found is read from every replica of its preference list, so that a
// replica still holding a value another has deleted does not resurrect it
// in the listing. The keys of a consistent type are listed from this
// node's copy of the metadata plane's state.
func (n *Node) ListKeys(ctx context.Context, typ, bucket string, fn func(key string) error) error {
	if err := n.admit(); err != nil {
		return err
	}
	defer n.bg.Done()
	props, err := n.md.BucketProps(typ, bucket)
	if err != nil {
		return err
	}
	if props.Consistent {
		return n.md.StrongList(ctx, typ, bucket, fn)
	}
	ring := n.Ring()
	if ring == nil {
		return fmt.Errorf("%w: this node has no ring yet", ErrUnavailable)
	}
	seen := map[string]bool{}
	return n.scan(ctx, BucketPrefix(typ, bucket), func(loc Location) error {
		if seen[loc.Key] {
			return nil
		}
		seen[loc.Key] = true
		key := loc.Bytes()
		var merged *object.Object
		for _, vn := range ring.Preflist(key, props.NVal) {
			if o, err := n.replicas.GetReplica(ctx, vn, key); err == nil {
				merged = object.Sync(merged, o)
			}
		}
		if merged.IsEmpty() || merged.IsTombstone() {
			return nil
		}
		return fn(loc.Key)
	})
}

// scan visits the location of every key stored under prefix in every local
// partition (a key is visited once per replica). It reads keys only:
// callers that need a value load it, verified, through the vnodes.
func (n *Node) scan(ctx context.Context, prefix []byte, fn func(Location) error) error {
	r := n.Ring()
	if r == nil {
		return fmt.Errorf("%w: this node has no ring yet", ErrUnavailable)
	}
	for p := range r.Size() {
		err := n.eng.Iterate(store.Partition(p), prefix, func(key, _ []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			loc, err := ParseLocation(key)
			if err != nil {
				return nil
			}
			return fn(loc)
		})
		if err != nil && !errors.Is(err, store.ErrStop) {
			return err
		}
	}
	return nil
}
