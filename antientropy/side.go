package antientropy

import (
	"context"
	"fmt"
)

// KeyEntry is one key a segment holds, with its KeyHash.
type KeyEntry struct {
	Segment int
	Key     []byte
	Hash    uint64
}

// Side is one end of an exchange: a tree and the key lists behind it.
// Local trees use TreeSide; the node implements a remote Side over RPC.
//
// Compare calls the two sides of an exchange concurrently, but one side's
// methods sequentially. Returned slices belong to the caller. The levels
// asked for may change between calls (writes continue during an
// exchange); Compare tolerates that, a difference it misses is found by
// the next exchange. A peer whose tree is not built returns an error
// wrapping ErrNotBuilt; one that refuses to take part, ErrDisabled.
type Side interface {
	// Root returns the root hash.
	Root(ctx context.Context) (uint64, error)
	// Branches returns all branch hashes, in order.
	Branches(ctx context.Context) ([]uint64, error)
	// Segments returns, in result[i], the segment hashes of branches[i].
	Segments(ctx context.Context, branches []int) ([][]uint64, error)
	// Keys returns every (key, hash) in the given segments, in any order.
	Keys(ctx context.Context, segments []int) ([]KeyEntry, error)
}

// TreeSide returns a Side over a local tree; keys lists the entries of a
// set of segments (the node reads its key index). Out-of-range branch or
// segment numbers, which may come from a peer, are errors, not panics.
func TreeSide(t *Tree, keys func(ctx context.Context, segments []int) ([]KeyEntry, error)) Side {
	return treeSide{t: t, keys: keys}
}

type treeSide struct {
	t    *Tree
	keys func(ctx context.Context, segments []int) ([]KeyEntry, error)
}

var _ Side = treeSide{}

func (s treeSide) Root(context.Context) (uint64, error) { return s.t.Root(), nil }

func (s treeSide) Branches(context.Context) ([]uint64, error) { return s.t.BranchHashes(), nil }

func (s treeSide) Segments(_ context.Context, branches []int) ([][]uint64, error) {
	out := make([][]uint64, len(branches))
	for i, b := range branches {
		if b < 0 || b >= s.t.Branches() {
			return nil, fmt.Errorf("antientropy: branch %d out of range [0, %d)", b, s.t.Branches())
		}
		out[i] = s.t.SegmentHashes(b)
	}
	return out, nil
}

func (s treeSide) Keys(ctx context.Context, segments []int) ([]KeyEntry, error) {
	for _, seg := range segments {
		if seg < 0 || seg >= s.t.Segments() {
			return nil, fmt.Errorf("antientropy: segment %d out of range [0, %d)", seg, s.t.Segments())
		}
	}
	return s.keys(ctx, segments)
}
