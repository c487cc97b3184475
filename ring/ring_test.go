package ring_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/ring"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{
		{8, true}, {64, true}, {1024, true}, {4096, true},
		{0, false}, {-64, false}, {4, false}, {48, false}, {100, false}, {8192, false},
	} {
		err := ring.Config{Size: tc.size}.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ring.ErrBadSize)) {
			t.Errorf("Size %d: Validate() = %v, want ok=%v", tc.size, err, tc.ok)
		}
	}
	if err := ring.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	if got := ring.DefaultConfig().Size; got != 64 {
		t.Errorf("DefaultConfig().Size = %d, want 64", got)
	}
}

func TestNewRejects(t *testing.T) {
	eight := strings.Fields("a b c d a b c d")
	for _, tc := range []struct {
		name   string
		cfg    ring.Config
		owners []string
		want   error
	}{
		{"bad size", ring.Config{Size: 12}, eight, ring.ErrBadSize},
		{"short table", cfgOf(8), eight[:7], ring.ErrBadOwners},
		{"long table", cfgOf(8), append(slices.Clone(eight), "a"), ring.ErrBadOwners},
		{"empty owner", cfgOf(8), strings.Fields("a b c d a b c d")[:7:7], ring.ErrBadOwners},
	} {
		if tc.name == "empty owner" {
			tc.owners = append(tc.owners, "")
		}
		if _, err := ring.New(tc.cfg, tc.owners, 1); !errors.Is(err, tc.want) {
			t.Errorf("%s: New() error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRingAccessors(t *testing.T) {
	owners := strings.Fields("c a b c a b d d")
	r := mustNew(t, cfgOf(8), owners, 7)
	if r.Size() != 8 || r.Epoch() != 7 {
		t.Fatalf("Size, Epoch = %d, %d; want 8, 7", r.Size(), r.Epoch())
	}
	if got := r.Owner(6); got != "d" {
		t.Errorf("Owner(6) = %q, want d", got)
	}
	if got, want := r.Members(), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("Members() = %v, want %v", got, want)
	}
	if got, want := r.PartitionsOf("c"), []int{0, 3}; !slices.Equal(got, want) {
		t.Errorf("PartitionsOf(c) = %v, want %v", got, want)
	}
	if got := r.PartitionsOf("z"); got != nil {
		t.Errorf("PartitionsOf(z) = %v, want nil", got)
	}

	// Returned slices are copies: scribbling on them changes nothing.
	r.Owners()[0] = "x"
	r.Members()[0] = "x"
	r.PartitionsOf("c")[0] = 99
	owners[1] = "x" // New copied its input too
	if r.Owner(0) != "c" || r.Owner(1) != "a" || r.Members()[0] != "a" || r.PartitionsOf("c")[0] != 0 {
		t.Error("ring changed through a returned or passed-in slice")
	}

	for _, p := range []int{-1, 8} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Owner(%d) did not panic", p)
				}
			}()
			r.Owner(p)
		}()
	}
}

func TestPartitionOf(t *testing.T) {
	// The partition is the top log2(Q) bits of the hash.
	for _, tc := range []struct {
		size int
		key  string
		want int
	}{
		{8, "0000000000000000", 0},
		{8, "1fffffffffffffff", 0},
		{8, "2000000000000000", 1},
		{8, "5000000000000000", 2},
		{8, "e000000000000000", 7},
		{8, "ffffffffffffffff", 7},
		{64, "0400000000000000", 1},
		{64, "03ffffffffffffff", 0},
		{64, "fc00000000000000", 63},
		{4096, "0010000000000000", 1},
		{4096, "fff0000000000000", 4095},
	} {
		r := mustNew(t, cfgOf(tc.size), roundRobin(tc.size, []string{"a"}), 1)
		if got := r.PartitionOf([]byte(tc.key)); got != tc.want {
			t.Errorf("Q=%d PartitionOf(%s) = %d, want %d", tc.size, tc.key, got, tc.want)
		}
	}
}

func TestPartitionOfDefaultHash(t *testing.T) {
	// A nil Hash means XXHash, and the mapping is the documented one.
	r := mustNew(t, ring.Config{Size: 64}, roundRobin(64, []string{"a"}), 1)
	for _, key := range []string{"", "k", "default/users/alice"} {
		want := int(ring.XXHash([]byte(key)) >> 58)
		if got := r.PartitionOf([]byte(key)); got != want {
			t.Errorf("PartitionOf(%q) = %d, want %d", key, got, want)
		}
	}
	// Pinned values: changing the hash would re-home every key of every
	// existing cluster.
	if got := ring.XXHash([]byte("abc")); got != 0x44bc2cf5ad770999 {
		t.Errorf("XXHash(abc) = %#x, want 0x44bc2cf5ad770999", got)
	}
}

func TestViolations(t *testing.T) {
	for _, tc := range []struct {
		owners string
		n      int
		want   []int
	}{
		{"a b c d a b c d", 3, nil},
		{"a b c d a b c d", 4, nil},
		{"a b c d a b c d", 5, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"a b c a b c a b", 3, []int{6, 7}}, // across the wrap: a b a, b a b
		{"a b c a b c a b", 2, nil},
		{"a a b c d e f g", 2, []int{0}},
		{"a a b c d e f g", 1, nil},
		{"a b c d e f g h", 8, nil},
		{"a b c d e f g a", 2, []int{7}},
	} {
		owners := strings.Fields(tc.owners)
		r := mustNew(t, cfgOf(8), owners, 1)
		if got := r.Violations(tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("%s n=%d: Violations() = %v, want %v", tc.owners, tc.n, got, tc.want)
		}
		if got := crowded(owners, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("%s n=%d: reference crowded() = %v, want %v (bad test case)", tc.owners, tc.n, got, tc.want)
		}
	}
}

func TestMoves(t *testing.T) {
	a := mustNew(t, cfgOf(8), strings.Fields("a b c d a b c d"), 1)
	b := mustNew(t, cfgOf(8), strings.Fields("a b e d a e c d"), 2)
	want := []ring.Move{{2, "c", "e"}, {5, "b", "e"}}
	if got := ring.Moves(a, b); !slices.Equal(got, want) {
		t.Errorf("Moves(a, b) = %v, want %v", got, want)
	}
	if got := ring.Moves(a, a); len(got) != 0 {
		t.Errorf("Moves(a, a) = %v, want none", got)
	}
	if got := ring.Moves(nil, a); len(got) != 8 || got[3] != (ring.Move{3, "", "d"}) {
		t.Errorf("Moves(nil, a) = %v, want every partition from \"\"", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Moves between rings of different sizes did not panic")
		}
	}()
	ring.Moves(a, mustNew(t, cfgOf(16), roundRobin(16, []string{"a"}), 1))
}
