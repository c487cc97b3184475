package ring_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/ring"
)

func TestFeasible(t *testing.T) {
	for _, tc := range []struct {
		size, members, n int
		want             bool
	}{
		{64, 3, 3, false}, // one node owns 22, which needs 66 partitions
		{64, 4, 3, true},
		{64, 40, 3, true},
		{64, 100, 3, true}, // more members than partitions
		{64, 2, 3, false},
		{64, 4, 4, true}, // 4 | 64: exactly periodic
		{64, 5, 5, false},
		{64, 6, 5, true}, // 11*5 = 55
		{8, 3, 3, false},
		{8, 4, 3, true},
		{8, 8, 8, true},
		{8, 7, 8, false},
		{16, 1, 1, true},
		{16, 1, 2, false},
		{8, 8, 9, false}, // n > Q
		{64, 0, 3, false},
		{64, 4, 0, false},
	} {
		if got := ring.Feasible(tc.size, tc.members, tc.n); got != tc.want {
			t.Errorf("Feasible(%d, %d, %d) = %v, want %v", tc.size, tc.members, tc.n, got, tc.want)
		}
	}
}

// TestFeasibleMatchesSearch checks Feasible's "exactly when" on small
// rings against an exhaustive search for a balanced, separated ring.
func TestFeasibleMatchesSearch(t *testing.T) {
	for _, q := range []int{8, 16} {
		for n := 1; n <= 6; n++ {
			for m := 1; m <= q; m++ {
				if got, want := ring.Feasible(q, m, n), separable(q, m, n); got != want {
					t.Errorf("Feasible(%d, %d, %d) = %v, search says %v", q, m, n, got, want)
				}
			}
		}
	}
}

// separable searches for a ring of q partitions over m members, q%m of
// them owning q/m+1 and the rest q/m, with every n consecutive partitions
// distinct. Members with equal shares are interchangeable, so a member may
// first appear only after the previous member of its class has.
func separable(q, m, n int) bool {
	left := make([]int, m)
	for x := range left {
		left[x] = q / m
		if x < q%m {
			left[x]++
		}
	}
	owner := make([]int, q)
	seen := make([]bool, m)
	var place func(p int) bool
	place = func(p int) bool {
		if p == q {
			for i := q - n + 1; i < q; i++ { // windows across the wrap
				for j := 0; j < i+n-q; j++ {
					if i >= 0 && owner[i] == owner[j] {
						return false
					}
				}
			}
			return true
		}
	next:
		for x := range m {
			if left[x] == 0 || !seen[x] && x > 0 && !seen[x-1] && sameClass(x-1, x, q, m) {
				continue
			}
			for d := 1; d < n && d <= p; d++ {
				if owner[p-d] == x {
					continue next
				}
			}
			owner[p] = x
			first := !seen[x]
			left[x]--
			seen[x] = true
			if place(p + 1) {
				return true
			}
			left[x]++
			if first {
				seen[x] = false
			}
		}
		return false
	}
	return place(0)
}

func sameClass(a, b, q, m int) bool { return (a < q%m) == (b < q%m) }

func TestClaimRejects(t *testing.T) {
	prev16, err := ring.Claim(cfgOf(16), nil, []string{"a", "b"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cfg     ring.Config
		prev    *ring.Ring
		members []string
		n       int
		want    error
	}{
		{"bad size", ring.Config{Size: 10}, nil, []string{"a"}, 3, ring.ErrBadSize},
		{"no members", cfgOf(8), nil, nil, 3, ring.ErrNoMembers},
		{"empty id", cfgOf(8), nil, []string{"a", ""}, 3, ring.ErrBadMember},
		{"duplicate", cfgOf(8), nil, []string{"a", "b", "a"}, 3, ring.ErrBadMember},
		{"n zero", cfgOf(8), nil, []string{"a"}, 0, ring.ErrBadTargetN},
		{"n above Q", cfgOf(8), nil, []string{"a"}, 9, ring.ErrBadTargetN},
		{"size changed", cfgOf(32), prev16, []string{"a", "b"}, 3, ring.ErrSizeMismatch},
	} {
		if _, err := ring.Claim(tc.cfg, tc.prev, tc.members, tc.n); !errors.Is(err, tc.want) {
			t.Errorf("%s: Claim() error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// checkClaim asserts what Claim promises for every result: balance,
// separation exactly when Feasible, and the epoch rule.
func checkClaim(t interface {
	Helper()
	Fatalf(string, ...any)
}, prev, next *ring.Ring, members []string, n int) {
	t.Helper()
	if msg := balanceError(next, members); msg != "" {
		t.Fatalf("unbalanced: %s\n%v", msg, next.Owners())
	}
	q, m := next.Size(), len(members)
	bad := crowded(next.Owners(), n)
	if ring.Feasible(q, m, n) && len(bad) > 0 {
		t.Fatalf("Q=%d M=%d n=%d is separable but windows %v are crowded\n%v", q, m, n, bad, next.Owners())
	}
	if !ring.Feasible(q, m, n) && n <= q && len(bad) == 0 {
		t.Fatalf("Q=%d M=%d n=%d: Feasible says no, yet Claim separated it\n%v", q, m, n, next.Owners())
	}
	if !slices.Equal(next.Violations(n), bad) {
		t.Fatalf("Violations(%d) = %v, brute force %v", n, next.Violations(n), bad)
	}
	switch {
	case prev == nil:
		if next.Epoch() != 1 {
			t.Fatalf("new ring has epoch %d, want 1", next.Epoch())
		}
	case next == prev:
	case slices.Equal(next.Owners(), prev.Owners()):
		t.Fatalf("Claim returned a new ring (epoch %d) with prev's owners", next.Epoch())
	case next.Epoch() != prev.Epoch()+1:
		t.Fatalf("epoch %d after %d, want +1", next.Epoch(), prev.Epoch())
	}
}

func TestClaimNewRing(t *testing.T) {
	for q := 8; q <= 256; q *= 2 {
		for n := 1; n <= 5 && n <= q; n++ {
			for m := 1; m <= 40; m++ {
				members := nodeNames(m)
				r, err := ring.Claim(cfgOf(q), nil, members, n)
				if err != nil {
					t.Fatal(err)
				}
				checkClaim(t, nil, r, members, n)
			}
		}
	}
}

func TestClaimDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	cfg := cfgOf(64)
	var r *ring.Ring
	members := nodeNames(3)
	for i := range 12 {
		if i%3 == 2 {
			members = slices.Delete(members, 1, 2)
		} else {
			members = append(members, fmt.Sprintf("x%02d", i))
		}
		a, err := ring.Claim(cfg, r, members, 3)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := slices.Clone(members)
		rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b, err := ring.Claim(cfg, r, shuffled, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Owners(), b.Owners()) {
			t.Fatalf("step %d: member order changed the claim:\n%v\n%v", i, a.Owners(), b.Owners())
		}
		// Nothing to do: the same ring comes back, epoch and all.
		if again, _ := ring.Claim(cfg, a, shuffled, 3); again != a {
			t.Fatalf("step %d: re-claiming an unchanged membership built a new ring", i)
		}
		r = a
	}
}

func TestClaimMoreMembersThanPartitions(t *testing.T) {
	members := nodeNames(12)
	r, err := ring.Claim(cfgOf(8), nil, members, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkClaim(t, nil, r, members, 3)
	if got := len(r.Members()); got != 8 {
		t.Errorf("%d members own partitions, want 8", got)
	}
	// A join of a 13th changes nothing: it would own 0 like four others.
	next, err := ring.Claim(cfgOf(8), r, append(members, "z"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if next != r {
		t.Errorf("joining a member whose share is 0 moved %v", ring.Moves(r, next))
	}
}

// TestClaimClearsCrowding: a ring that crowds windows, with a separable
// membership, gets back to separated by re-placing few partitions.
func TestClaimClearsCrowding(t *testing.T) {
	for _, tc := range []struct {
		name     string
		owners   string
		n        int
		maxMoves int
	}{
		// One pair of swapped neighbours crowds two windows: at least
		// one partition must move, and a swap back is two.
		{"swapped pair", "a b c d e f g h a c b d e f g h", 3, 2},
		{"n raised to 4", "a b c a d b c d a b c d a b c d", 4, 4},
		{"clumped", "a a b b c c d d e e f f g g h h", 3, 8},
	} {
		owners := strings.Fields(tc.owners)
		prev := mustNew(t, cfgOf(16), owners, 5)
		members := prev.Members()
		next, err := ring.Claim(cfgOf(16), prev, members, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		checkClaim(t, prev, next, members, tc.n)
		if mv := ring.Moves(prev, next); len(mv) > tc.maxMoves {
			t.Errorf("%s: %d moves %v, want at most %d", tc.name, len(mv), mv, tc.maxMoves)
		}
	}
}

// TestClaimFromUnseparable: 3 nodes cannot separate 64 partitions for
// n = 3; when a 4th joins, Claim must clear the crowding as well as give
// it its share, and still move less than a recomputation.
func TestClaimFromUnseparable(t *testing.T) {
	cfg := cfgOf(64)
	r3, err := ring.Claim(cfg, nil, nodeNames(3), 3)
	if err != nil {
		t.Fatal(err)
	}
	checkClaim(t, nil, r3, nodeNames(3), 3)
	if len(r3.Violations(3)) == 0 {
		t.Fatal("3 members on 64 partitions cannot be separated, yet no violations")
	}
	r4, err := ring.Claim(cfg, r3, nodeNames(4), 3)
	if err != nil {
		t.Fatal(err)
	}
	checkClaim(t, r3, r4, nodeNames(4), 3)
	if mv, naive := len(ring.Moves(r3, r4)), diff(r3.Owners(), roundRobin(64, nodeNames(4))); mv > naive {
		t.Errorf("%d moves, naive recomputation %d", mv, naive)
	}
}

// When separation is out of reach (3 nodes on 64 partitions), a ring that
// grows into that membership crowds no more windows than a fresh one: a
// node lost then takes two replicas of a handful of keys, not of most.
func TestClaimInfeasibleGrowthCrowdsLikeFresh(t *testing.T) {
	cfg := ring.DefaultConfig()
	fresh, err := ring.Claim(cfg, nil, []string{"a", "b", "c"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := ring.Claim(cfg, nil, []string{"a"}, 3)
	two, _ := ring.Claim(cfg, one, []string{"a", "b"}, 3)
	for name, prev := range map[string]*ring.Ring{"1 to 3": one, "2 to 3": two} {
		r, err := ring.Claim(cfg, prev, []string{"a", "b", "c"}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(r.Violations(3)), len(fresh.Violations(3)); got > want {
			t.Errorf("%s: %d crowded windows, a fresh ring has %d", name, got, want)
		}
	}
}
