package antientropy

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestTreeShape(t *testing.T) {
	for _, tc := range []struct{ segments, branches, per int }{
		{4, 2, 2},
		{8, 2, 4},
		{64, 8, 8},
		{1024, 32, 32},
		{2048, 32, 64},
		{4096, 64, 64},
		{8192, 64, 128},
		{1 << 20, 1024, 1024},
	} {
		tr := NewTree(tc.segments)
		if tr.Segments() != tc.segments || tr.Branches() != tc.branches || tr.SegmentsPerBranch() != tc.per {
			t.Errorf("NewTree(%d): %d segments, %d branches of %d; want %d of %d",
				tc.segments, tr.Segments(), tr.Branches(), tr.SegmentsPerBranch(), tc.branches, tc.per)
		}
		if got := (Config{Segments: tc.segments}).Branches(); got != tc.branches {
			t.Errorf("Config{Segments: %d}.Branches() = %d, want %d", tc.segments, got, tc.branches)
		}
		if got, want := tr.MemoryBytes(), 8*(tc.segments+tc.branches); got != want {
			t.Errorf("MemoryBytes = %d, want %d", got, want)
		}
	}
}

func TestNewTreePanicsOnBadSize(t *testing.T) {
	for _, n := range []int{-4, 0, 1, 2, 3, 6, 100} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewTree(%d) did not panic", n)
				}
			}()
			NewTree(n)
		}()
	}
}

// treeOf builds a tree from scratch from key -> hash.
func treeOf(segments int, keys map[string]uint64) *Tree {
	t := NewTree(segments)
	for k, h := range keys {
		t.Update(SegmentOf([]byte(k), segments), 0, h)
	}
	return t
}

// Writes, overwrites and deletes applied one by one with Update give the
// tree a scan of the final data gives: the property that lets a node
// maintain its trees incrementally.
func TestIncrementalEqualsRebuilt(t *testing.T) {
	const segments = 64 // small, so that segments hold many keys and collide
	rnd := rand.New(rand.NewPCG(1, 2))
	for seq := range 200 {
		tr := NewTree(segments)
		cur := map[string]uint64{}
		for range 1 + rnd.IntN(300) {
			k := fmt.Sprintf("k%d", rnd.IntN(50))
			old := cur[k]
			var h uint64
			if rnd.IntN(4) > 0 { // write or overwrite; else delete
				h = KeyHash([]byte(k), fmt.Appendf(nil, "v%d", rnd.IntN(5)))
				cur[k] = h
			} else {
				delete(cur, k)
			}
			tr.Update(SegmentOf([]byte(k), segments), old, h)
		}
		var root uint64
		for _, h := range cur {
			root ^= h
		}
		if !tr.Equal(treeOf(segments, cur)) {
			t.Fatalf("sequence %d: incremental tree differs from rebuilt", seq)
		}
		if tr.Root() != root {
			t.Fatalf("sequence %d: root %#x, want XOR of hashes %#x", seq, tr.Root(), root)
		}
		var br uint64
		for b, bh := range tr.BranchHashes() {
			var x uint64
			for _, sh := range tr.SegmentHashes(b) {
				x ^= sh
			}
			if x != bh {
				t.Fatalf("sequence %d: branch %d = %#x, XOR of its segments %#x", seq, b, bh, x)
			}
			br ^= bh
		}
		if br != root {
			t.Fatalf("sequence %d: XOR of branches %#x, root %#x", seq, br, root)
		}
	}
}

func TestTreeEqualAndReset(t *testing.T) {
	a, b := NewTree(64), NewTree(64)
	if !a.Equal(b) || !a.Equal(NewTree(64)) || a.Equal(NewTree(128)) {
		t.Fatal("empty trees: Equal wrong")
	}
	a.Update(3, 0, 42)
	if a.Equal(b) || a.Root() != 42 {
		t.Fatal("after update: Equal or Root wrong")
	}
	a.Update(3, 7, 7) // no-op
	a.Reset()
	if !a.Equal(b) || a.Root() != 0 || a.BranchHashes()[0] != 0 {
		t.Fatal("Reset left hashes")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	tr := NewTree(1024)
	for range 5000 {
		tr.Update(rnd.IntN(1024), 0, rnd.Uint64())
	}
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1+4+8*1024+8 {
		t.Fatalf("saved tree is %d bytes", len(b))
	}
	got, err := UnmarshalTree(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(tr) || got.Root() != tr.Root() || fmt.Sprint(got.BranchHashes()) != fmt.Sprint(tr.BranchHashes()) {
		t.Fatal("round trip changed the tree")
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	tr := NewTree(64)
	tr.Update(5, 0, 99)
	good, _ := tr.MarshalBinary()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":         nil,
		"short":         good[:10],
		"truncated":     good[:len(good)-1],
		"extra byte":    append(bytes.Clone(good), 0),
		"format":        mod(func(b []byte) []byte { b[0] = 2; return b }),
		"count not pow": mod(func(b []byte) []byte { b[1] = 63; return b }),
		"count bigger":  mod(func(b []byte) []byte { b[1] = 128; return b }),
		"flipped hash":  mod(func(b []byte) []byte { b[20] ^= 1; return b }),
		"flipped sum":   mod(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }),
	} {
		if _, err := UnmarshalTree(b); !errors.Is(err, ErrCorruptTree) {
			t.Errorf("%s: err = %v, want ErrCorruptTree", name, err)
		}
	}
}

func FuzzUnmarshalTree(f *testing.F) {
	tr := NewTree(4)
	tr.Update(1, 0, 7)
	good, _ := tr.MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1, 4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := UnmarshalTree(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptTree) {
				t.Fatalf("error %v does not wrap ErrCorruptTree", err)
			}
			return
		}
		out, err := tr.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted input does not round-trip: %v", err)
		}
	})
}

func BenchmarkUpdate(b *testing.B) {
	tr := NewTree(4096)
	var h uint64 = 1
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		next := h*6364136223846793005 + 1442695040888963407
		tr.Update(i&4095, h, next)
		h = next
	}
}
