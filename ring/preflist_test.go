package ring_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"github.com/cairnkv/cairn/ring"
)

func TestPreflistFor(t *testing.T) {
	r := mustNew(t, cfgOf(8), strings.Fields("a b c d e f g h"), 1)
	for _, tc := range []struct {
		partition, n int
		want         string // partition:node ...
	}{
		{0, 3, "0:a 1:b 2:c"},
		{5, 3, "5:f 6:g 7:h"},
		{6, 3, "6:g 7:h 0:a"}, // wraps
		{7, 3, "7:h 0:a 1:b"},
		{7, 1, "7:h"},
		{3, 8, "3:d 4:e 5:f 6:g 7:h 0:a 1:b 2:c"},
		{3, 20, "3:d 4:e 5:f 6:g 7:h 0:a 1:b 2:c"}, // capped at Q
		{3, 0, ""},
		{3, -1, ""},
	} {
		if got := vnodes(r.PreflistFor(tc.partition, tc.n)); got != tc.want {
			t.Errorf("PreflistFor(%d, %d) = %q, want %q", tc.partition, tc.n, got, tc.want)
		}
	}
	// Preflist is PreflistFor of the key's partition.
	if got, want := vnodes(r.Preflist([]byte("e100000000000000"), 3)), "7:h 0:a 1:b"; got != want {
		t.Errorf("Preflist = %q, want %q", got, want)
	}
}

func vnodes(vs []ring.VNode) string {
	var b []string
	for _, v := range vs {
		b = append(b, fmt.Sprintf("%d:%s", v.Partition, v.Node))
	}
	return strings.Join(b, " ")
}

func entries(es []ring.PrefEntry) string {
	var b []string
	for _, e := range es {
		s := fmt.Sprintf("%d:%s", e.Partition, e.Node)
		if e.Role == ring.Fallback {
			s += "(for " + e.Owner + ")"
		} else if e.Role != ring.Primary || e.Owner != e.Node {
			s += "(bad primary)"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestPreflistWithFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name         string
		owners       string
		partition, n int
		down         string
		want         string
	}{
		{"all up", "a b c d e f g h", 6, 3, "", "6:g 7:h 0:a"},
		{"one down", "a b c d e f g h", 6, 3, "h", "6:g 7:b(for h) 0:a"},
		{"two down continue the walk", "a b c d e f g h", 6, 3, "g a", "6:b(for g) 7:h 0:c(for a)"},
		{"down fallback skipped", "a b c d e f g h", 0, 3, "b d", "0:a 1:e(for b) 2:c"},
		{"serving node skipped", "a b c b d e f g", 0, 3, "a", "0:d(for a) 1:b 2:c"},
		{"no stand-in left", "a b c a b c a b", 0, 3, "c", "0:a 1:b"},
		{"all down", "a b c d e f g h", 0, 3, "a b c d e f g h", ""},
		{"fallback wraps", "a b c d e f g h", 5, 3, "f", "5:a(for f) 6:g 7:h"},
		{"every other up node serves", "a b c d e f g h", 0, 3, "a d e f g h", "1:b 2:c"},
		{"n capped", "a b c d e f g h", 0, 9, "", "0:a 1:b 2:c 3:d 4:e 5:f 6:g 7:h"},
		{"n zero", "a b c d e f g h", 0, 0, "", ""},
	} {
		r := mustNew(t, cfgOf(8), strings.Fields(tc.owners), 1)
		down := strings.Fields(tc.down)
		got := r.PreflistWithFallbacks(tc.partition, tc.n, func(node string) bool { return !slices.Contains(down, node) })
		if s := entries(got); s != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, s, tc.want)
		}
		if s := entries(refFallbacks(r, tc.partition, tc.n, down)); s != tc.want {
			t.Errorf("%s: reference got %q, want %q (bad test case)", tc.name, s, tc.want)
		}
	}
	// nil up means every node is up.
	r := mustNew(t, cfgOf(8), strings.Fields("a b c d e f g h"), 1)
	if got := entries(r.PreflistWithFallbacks(7, 2, nil)); got != "7:h 0:a" {
		t.Errorf("nil up: got %q", got)
	}
}

// With fewer nodes than n, a node can be primary twice; a down primary
// still gets no stand-in that already serves the list.
func TestPreflistWithFallbacksSharedPrimaries(t *testing.T) {
	r := mustNew(t, cfgOf(8), strings.Fields("a b a b a b a b"), 1)
	got := r.PreflistWithFallbacks(0, 3, func(node string) bool { return node != "b" })
	if s := entries(got); s != "0:a 2:a" {
		t.Errorf("got %q, want %q", s, "0:a 2:a")
	}
}

// naivePreflist finds the key's partition by scanning the partitions' hash
// ranges and reads the next n owners off the doubled owner table.
func naivePreflist(owners []string, h uint64, n int) []ring.VNode {
	q := uint64(len(owners))
	width := (^uint64(0))/q + 1
	p := 0
	for i := range q {
		if h >= i*width && (i == q-1 || h < (i+1)*width) {
			p = int(i)
		}
	}
	doubled := append(slices.Clone(owners), owners...)
	var out []ring.VNode
	for i := p; i < p+min(n, len(owners)); i++ {
		out = append(out, ring.VNode{Partition: i % len(owners), Node: doubled[i]})
	}
	return out
}

// refFallbacks is riak_core_apl's algorithm: split the primaries into up
// and down, walk the rest of the ring for up nodes not yet used, and pair
// them with the down primaries in order.
func refFallbacks(r *ring.Ring, partition, n int, down []string) []ring.PrefEntry {
	isUp := func(node string) bool { return !slices.Contains(down, node) }
	prim := r.PreflistFor(partition, n)
	used := map[string]bool{}
	var downs []ring.VNode
	for _, v := range prim {
		if isUp(v.Node) {
			used[v.Node] = true
		} else {
			downs = append(downs, v)
		}
	}
	stand := map[int]string{} // primary partition → fallback node
	for i := len(prim); i < r.Size() && len(downs) > 0; i++ {
		node := r.Owner((partition + i) % r.Size())
		if isUp(node) && !used[node] {
			used[node] = true
			stand[downs[0].Partition] = node
			downs = downs[1:]
		}
	}
	var out []ring.PrefEntry
	for _, v := range prim {
		switch fb, ok := stand[v.Partition]; {
		case isUp(v.Node):
			out = append(out, ring.PrefEntry{VNode: v, Role: ring.Primary, Owner: v.Node})
		case ok:
			out = append(out, ring.PrefEntry{VNode: ring.VNode{Partition: v.Partition, Node: fb}, Role: ring.Fallback, Owner: v.Node})
		}
	}
	return out
}

// randomRing returns a ring of 8..256 partitions owned by up to 12 nodes in
// no particular pattern, with the readable hex hash.
func randomRing(rnd *rand.Rand) *ring.Ring {
	q := 8 << rnd.IntN(6)
	k := 1 + rnd.IntN(12)
	owners := make([]string, q)
	for p := range owners {
		owners[p] = fmt.Sprintf("n%d", rnd.IntN(k))
	}
	r, err := ring.New(cfgOf(q), owners, 1)
	if err != nil {
		panic(err)
	}
	return r
}

func TestPreflistMatchesNaiveScan(t *testing.T) {
	f := func(seed uint64, h uint64, n uint8) bool {
		r := randomRing(rand.New(rand.NewPCG(seed, 1)))
		key := []byte(fmt.Sprintf("%016x", h))
		got := r.Preflist(key, int(n%20))
		want := naivePreflist(r.Owners(), h, int(n%20))
		if !reflect.DeepEqual(got, want) {
			t.Logf("Q=%d h=%#x n=%d: got %v, want %v", r.Size(), h, n%20, got, want)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

func TestFallbacksMatchReference(t *testing.T) {
	f := func(seed uint64, downMask uint16, partition uint16, n uint8) bool {
		rnd := rand.New(rand.NewPCG(seed, 2))
		r := randomRing(rnd)
		var down []string
		for i := range 12 {
			if downMask&(1<<i) != 0 {
				down = append(down, fmt.Sprintf("n%d", i))
			}
		}
		p, k := int(partition)%r.Size(), 1+int(n%6)
		calls := 0
		got := r.PreflistWithFallbacks(p, k, func(node string) bool {
			calls++
			return !slices.Contains(down, node)
		})
		want := refFallbacks(r, p, k, down)
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Logf("owners %v p=%d n=%d down=%v: got %v, want %v", r.Owners(), p, k, down, got, want)
			return false
		}
		// Distinct serving nodes, and up is asked at most once a partition.
		nodes := map[string]bool{}
		for _, e := range got {
			if e.Role == ring.Fallback && nodes[e.Node] {
				return false
			}
			nodes[e.Node] = true
		}
		return calls <= r.Size()
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}
