package antientropy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
)

// memReplica is a replica's data: key -> hash, with its tree and a
// per-segment index, as a node keeps them.
type memReplica struct {
	segments int
	keys     map[string]uint64
	tree     *Tree
	bySeg    map[int][]KeyEntry
}

func newReplica(segments int, keys map[string]uint64) *memReplica {
	r := &memReplica{segments: segments, keys: keys, tree: treeOf(segments, keys), bySeg: map[int][]KeyEntry{}}
	for k, h := range keys {
		s := SegmentOf([]byte(k), segments)
		r.bySeg[s] = append(r.bySeg[s], KeyEntry{Segment: s, Key: []byte(k), Hash: h})
	}
	return r
}

func (r *memReplica) side() Side {
	return TreeSide(r.tree, func(_ context.Context, segs []int) ([]KeyEntry, error) {
		var out []KeyEntry
		for _, s := range segs {
			out = append(out, r.bySeg[s]...)
		}
		return out, nil
	})
}

// countingSide counts the calls made to a Side.
type countingSide struct {
	Side
	root, branches, segments, keys atomic.Int32
}

func (c *countingSide) Root(ctx context.Context) (uint64, error) {
	c.root.Add(1)
	return c.Side.Root(ctx)
}

func (c *countingSide) Branches(ctx context.Context) ([]uint64, error) {
	c.branches.Add(1)
	return c.Side.Branches(ctx)
}

func (c *countingSide) Segments(ctx context.Context, b []int) ([][]uint64, error) {
	c.segments.Add(1)
	return c.Side.Segments(ctx, b)
}

func (c *countingSide) Keys(ctx context.Context, s []int) ([]KeyEntry, error) {
	c.keys.Add(1)
	return c.Side.Keys(ctx, s)
}

func (c *countingSide) calls() [4]int32 {
	return [4]int32{c.root.Load(), c.branches.Load(), c.segments.Load(), c.keys.Load()}
}

// diverge builds two key sets of n shared keys differing in exactly k
// keys: some missing remotely, some missing locally, some with another
// version. It returns them and the expected diffs, sorted by key.
func diverge(rnd *rand.Rand, n, k int) (local, remote map[string]uint64, want []Diff) {
	local, remote = map[string]uint64{}, map[string]uint64{}
	for i := range n {
		key := fmt.Sprintf("key-%07d", i)
		h := KeyHash([]byte(key), []byte("v1"))
		local[key], remote[key] = h, h
	}
	for _, i := range rnd.Perm(n)[:k] {
		key := fmt.Sprintf("key-%07d", i)
		d := Diff{Key: []byte(key), Local: local[key], Remote: remote[key]}
		switch i % 3 {
		case 0:
			delete(remote, key)
			d.Remote = 0
		case 1:
			delete(local, key)
			d.Local = 0
		case 2:
			d.Remote = KeyHash([]byte(key), []byte("v2"))
			remote[key] = d.Remote
		}
		want = append(want, d)
	}
	slices.SortFunc(want, func(a, b Diff) int { return bytes.Compare(a.Key, b.Key) })
	return local, remote, want
}

func TestCompareFindsExactlyTheDifferingKeys(t *testing.T) {
	for _, tc := range []struct{ segments, n, k int }{
		{1024, 1000, 0},
		{1024, 1000, 1},
		{1024, 1000, 10},
		{1024, 1000, 100},
		{64, 5000, 100}, // many keys per segment
		{4096, 0, 0},    // both empty
	} {
		t.Run(fmt.Sprintf("S=%d/n=%d/k=%d", tc.segments, tc.n, tc.k), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
			lkeys, rkeys, want := diverge(rnd, tc.n, tc.k)
			l, r := newReplica(tc.segments, lkeys), newReplica(tc.segments, rkeys)
			ls, rs := &countingSide{Side: l.side()}, &countingSide{Side: r.side()}
			got, st, err := Compare(context.Background(), ls, rs)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("diffs:\n got %v\nwant %v", got, want)
			}
			if tc.k == 0 {
				if st.Rounds != 1 || ls.calls() != [4]int32{1, 0, 0, 0} || rs.calls() != [4]int32{1, 0, 0, 0} {
					t.Fatalf("equal trees: rounds %d, calls %v / %v; want 1 and only Root", st.Rounds, ls.calls(), rs.calls())
				}
				return
			}
			if st.Rounds != 4 || ls.calls() != [4]int32{1, 1, 1, 1} || rs.calls() != [4]int32{1, 1, 1, 1} {
				t.Fatalf("rounds %d, calls %v / %v; want 4 and one of each", st.Rounds, ls.calls(), rs.calls())
			}
			if st.SegmentsDiffering > tc.k || st.BranchesDiffering > st.SegmentsDiffering {
				t.Fatalf("%d keys differ in %d segments of %d branches", tc.k, st.SegmentsDiffering, st.BranchesDiffering)
			}
		})
	}
}

// With 10 differing keys among 100k, an exchange reads only the keys of
// the (at most 10) differing segments: exactly their entries on both
// sides, about 2*10*100000/4096 ≈ 490, far from the 200k a full
// comparison would read.
func TestCompareCostFollowsTheDifference(t *testing.T) {
	const segments, n, k = 4096, 100_000, 10
	rnd := rand.New(rand.NewPCG(7, 8))
	lkeys, rkeys, want := diverge(rnd, n, k)
	l, r := newReplica(segments, lkeys), newReplica(segments, rkeys)
	got, st, err := Compare(context.Background(), l.side(), r.side())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != k || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %d diffs, want %v", len(got), want)
	}
	segs := map[int]bool{}
	for _, d := range want {
		segs[SegmentOf(d.Key, segments)] = true
	}
	exact := 0
	for s := range segs {
		exact += len(l.bySeg[s]) + len(r.bySeg[s])
	}
	if st.SegmentsDiffering != len(segs) || st.KeysCompared != exact {
		t.Fatalf("read %d keys of %d segments; want exactly %d of %d", st.KeysCompared, st.SegmentsDiffering, exact, len(segs))
	}
	if bound := k * 2 * (n/segments + 1) * 2; st.KeysCompared >= bound {
		t.Fatalf("read %d keys, bound %d", st.KeysCompared, bound)
	}
}

func TestCompareShapeMismatch(t *testing.T) {
	one := map[string]uint64{"a": KeyHash([]byte("a"), []byte("1"))}
	two := map[string]uint64{"b": KeyHash([]byte("b"), []byte("1"))}
	for _, tc := range []struct{ l, r int }{
		{1024, 4096}, // 32 vs 64 branches
		{4096, 8192}, // 64 branches each, 64 vs 128 segments per branch
	} {
		_, _, err := Compare(context.Background(), newReplica(tc.l, one).side(), newReplica(tc.r, two).side())
		if !errors.Is(err, ErrShape) {
			t.Errorf("%d vs %d segments: err = %v, want ErrShape", tc.l, tc.r, err)
		}
	}
	// Same keys: the root does not depend on the shape, nothing to compare.
	if d, _, err := Compare(context.Background(), newReplica(1024, one).side(), newReplica(4096, one).side()); err != nil || d != nil {
		t.Errorf("same keys, different shapes: %v, %v", d, err)
	}
}

type failingSide struct{ Side }

func (failingSide) Branches(context.Context) ([]uint64, error) { return nil, ErrNotBuilt }

func TestCompareSideError(t *testing.T) {
	l := newReplica(64, map[string]uint64{"a": 1})
	r := newReplica(64, map[string]uint64{"a": 2})
	_, _, err := Compare(context.Background(), l.side(), failingSide{r.side()})
	if !errors.Is(err, ErrNotBuilt) || err.Error() != "antientropy: remote branches: antientropy: tree not built" {
		t.Fatalf("err = %v", err)
	}
}

func TestTreeSideRejectsOutOfRange(t *testing.T) {
	s := newReplica(64, nil).side()
	ctx := context.Background()
	if _, err := s.Segments(ctx, []int{8}); err == nil {
		t.Error("branch 8 of 8 accepted")
	}
	if _, err := s.Keys(ctx, []int{-1}); err == nil {
		t.Error("segment -1 accepted")
	}
}
