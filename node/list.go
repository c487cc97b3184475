package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

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
	names, err := n.clusterNames(ctx, appendPart(nil, typ), listBuckets)
	if err != nil {
		return err
	}
	for _, b := range names {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
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
	names, err := n.clusterNames(ctx, BucketPrefix(typ, bucket), listKeys)
	if err != nil {
		return err
	}
	for _, k := range names {
		key := Location{Type: typ, Bucket: bucket, Key: k}.Bytes()
		var merged *object.Object
		for _, vn := range ring.Preflist(key, props.NVal) {
			if o, err := n.replicas.GetReplica(ctx, vn, key); err == nil {
				merged = object.Sync(merged, o)
			}
		}
		if merged.IsEmpty() || merged.IsTombstone() {
			continue
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// What a listing collects from each storage key.
const (
	listKeys    uint8 = 0
	listBuckets uint8 = 1
)

// localNames returns the distinct key or bucket names stored under prefix
// in every partition of this node, sorted.
func (n *Node) localNames(ctx context.Context, prefix []byte, what uint8) ([]string, error) {
	seen := map[string]bool{}
	err := n.scan(ctx, prefix, func(loc Location) error {
		if what == listBuckets {
			seen[loc.Bucket] = true
		} else {
			seen[loc.Key] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// clusterNames is localNames over every member of the ring: each replica
// of every key lives on one of them (fallback copies included, since a
// member holds those in its own engine). A member that cannot answer
// fails the listing rather than silently leaving its keys out.
func (n *Node) clusterNames(ctx context.Context, prefix []byte, what uint8) ([]string, error) {
	all := map[string]bool{}
	local, err := n.localNames(ctx, prefix, what)
	if err != nil {
		return nil, err
	}
	for _, k := range local {
		all[k] = true
	}
	r := n.Ring()
	for _, m := range r.Members() {
		if m == n.cfg.NodeID {
			continue
		}
		names, err := peers{n}.names(ctx, m, prefix, what)
		if err != nil {
			return nil, fmt.Errorf("%w: listing needs every member: %w", ErrUnavailable, err)
		}
		for _, k := range names {
			all[k] = true
		}
	}
	return slices.Sorted(maps.Keys(all)), nil
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
