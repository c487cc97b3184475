package ring_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairnkv/cairn/ring"
)

// Movement bounds, asserted for single joins and leaves between separable
// rings whose new membership is roomy (M > 2n, so that every partition has
// members outside its 2n-2 neighbours):
//
//   - a join moves at most the joiner's share plus roomyJoinSlack;
//   - a leave moves the leaver's partitions plus at most one for each of
//     them that the members gaining partitions cannot take directly without
//     crowding (directFills): such a partition needs a two-step hand-over.
//
// Tighter memberships are held only to "no more than a recomputation";
// TestClaimMovement logs what they cost.
const roomyJoinSlack = 1

// step is one membership change and what it should cost at least.
type step struct {
	joined, left string // "" unless exactly one member joined or left
}

// checkMovement asserts the movement bounds of one claim.
func checkMovement(t interface {
	Helper()
	Fatalf(string, ...any)
}, prev, next *ring.Ring, members []string, n int, s step) {
	t.Helper()
	if prev == nil {
		return
	}
	q, m := prev.Size(), len(members)
	moves := len(ring.Moves(prev, next))
	// The naive claim competes only where its ring would be acceptable:
	// separated whenever separation is feasible.
	naive := roundRobin(q, members)
	if naiveOK := !ring.Feasible(q, m, n) || len(crowded(naive, n)) == 0; naiveOK && moves > diff(prev.Owners(), naive) {
		t.Fatalf("Q=%d M=%d n=%d: %d moves, more than the %d of a round-robin recomputation", q, m, n, moves, diff(prev.Owners(), naive))
	}
	// Lower bound and the bound asserted, for single joins and leaves
	// between separable rings.
	if !ring.Feasible(q, len(prev.Members()), n) || !ring.Feasible(q, m, n) {
		return
	}
	var lb int
	switch {
	case s.joined != "":
		lb = len(next.PartitionsOf(s.joined))
		if share := (q + m - 1) / m; lb > share {
			t.Fatalf("joiner got %d partitions, share is %d", lb, share)
		}
		if m > 2*n && moves > lb+roomyJoinSlack {
			t.Fatalf("Q=%d M=%d n=%d: join moved %d, joiner's share %d", q, m, n, moves, lb)
		}
	case s.left != "":
		lb = len(prev.PartitionsOf(s.left))
		gain := map[string]int{}
		for _, x := range members {
			if g := len(next.PartitionsOf(x)) - len(prev.PartitionsOf(x)); g > 0 {
				gain[x] = g
			}
		}
		stuck := lb - directFills(prev, s.left, gain, n)
		if m > 2*n && moves > lb+stuck {
			t.Fatalf("Q=%d M=%d n=%d: leave moved %d, leaver had %d of which %d cannot be handed over directly", q, m, n, moves, lb, stuck)
		}
	}
}

// directFills is the most of the leaver's partitions that members can take
// without crowding, each member x taking at most gain[x].
func directFills(prev *ring.Ring, leaver string, gain map[string]int, n int) int {
	holes := prev.PartitionsOf(leaver)
	q := prev.Size()
	fits := func(x string, h int) bool {
		for d := 1; d < n; d++ {
			if prev.Owner((h+d)%q) == x || prev.Owner((h-d+q)%q) == x {
				return false
			}
		}
		return true
	}
	held := map[string][]int{}
	var try func(h int, seen map[string]bool) bool
	try = func(h int, seen map[string]bool) bool {
		for _, x := range slices.Sorted(func(yield func(string) bool) {
			for x := range gain {
				if !yield(x) {
					return
				}
			}
		}) {
			if seen[x] || !fits(x, holes[h]) {
				continue
			}
			seen[x] = true
			if len(held[x]) < gain[x] {
				held[x] = append(held[x], h)
				return true
			}
			for i, h2 := range held[x] {
				if try(h2, seen) {
					held[x][i] = h
					return true
				}
			}
		}
		return false
	}
	k := 0
	for h := range holes {
		if try(h, map[string]bool{}) {
			k++
		}
	}
	return k
}

// TestClaimSequences drives random membership changes, one or several at
// a time, and checks every claim's guarantees and movement bounds.
func TestClaimSequences(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		q := 8 << rapid.IntRange(0, 5).Draw(t, "log2(Q/8)")
		n := rapid.IntRange(1, min(5, q)).Draw(t, "n")
		pool := nodeNames(48)
		members := rapid.SliceOfNDistinct(rapid.SampledFrom(pool), 1, 40, rapid.ID[string]).Draw(t, "initial")
		cfg := cfgOf(q)
		r, err := ring.Claim(cfg, nil, members, n)
		if err != nil {
			t.Fatal(err)
		}
		checkClaim(t, nil, r, members, n)
		for range rapid.IntRange(1, 8).Draw(t, "steps") {
			var s step
			out := slices.DeleteFunc(slices.Clone(pool), func(x string) bool { return slices.Contains(members, x) })
			switch op := rapid.IntRange(0, 3).Draw(t, "op"); {
			case op == 0 && len(members) > 1 || len(out) == 0:
				s.left = rapid.SampledFrom(members).Draw(t, "leaver")
				members = slices.DeleteFunc(members, func(x string) bool { return x == s.left })
			case op <= 1:
				s.joined = rapid.SampledFrom(out).Draw(t, "joiner")
				members = append(members, s.joined)
			case op == 2 && len(members) > 1:
				// Replace: one leaves and another joins in the same plan.
				gone := rapid.SampledFrom(members).Draw(t, "leaver")
				members = slices.DeleteFunc(members, func(x string) bool { return x == gone })
				members = append(members, rapid.SampledFrom(out).Draw(t, "joiner"))
			default:
				// A batch of joins.
				k := rapid.IntRange(1, min(4, len(out))).Draw(t, "batch")
				members = append(members, out[:k]...)
			}
			next, err := ring.Claim(cfg, r, members, n)
			if err != nil {
				t.Fatal(err)
			}
			checkClaim(t, r, next, members, n)
			checkMovement(t, r, next, members, n, s)
			r = next
		}
	})
}

// TestClaimMovement measures the extra moves of single joins and leaves
// over their lower bound along seeded random sequences (up to 40 members),
// asserts the roomy bounds, and logs the figures (go test -v -run
// TestClaimMovement) by regime: roomy (M >= 2n) and tight (n < M < 2n,
// relative to the lower bound).
func TestClaimMovement(t *testing.T) {
	for _, n := range []int{2, 3, 4} {
		sizes := []int{16, 64, 256}
		if n == 3 && !testing.Short() {
			sizes = append(sizes, 1024)
		}
		for _, q := range sizes {
			var joins, leaves, tightJoins, tightLeaves []float64
			rnd := rand.New(rand.NewPCG(uint64(q), uint64(n)))
			trials := 5
			if q >= 1024 {
				trials = 1
			}
			for range trials {
				var members []string
				var r *ring.Ring
				next := 0
				for range 40 {
					var s step
					if len(members) < 2 || len(members) < 40 && rnd.IntN(2) == 0 {
						s.joined = fmt.Sprintf("n%03d", next)
						next++
						members = append(members, s.joined)
					} else {
						s.left = members[rnd.IntN(len(members))]
						members = slices.DeleteFunc(members, func(x string) bool { return x == s.left })
					}
					nr, err := ring.Claim(cfgOf(q), r, members, n)
					if err != nil {
						t.Fatal(err)
					}
					checkClaim(t, r, nr, members, n)
					checkMovement(t, r, nr, members, n, s)
					if r != nil && ring.Feasible(q, len(r.Members()), n) && ring.Feasible(q, len(members), n) {
						moves := len(ring.Moves(r, nr))
						lb := len(nr.PartitionsOf(s.joined))
						if s.left != "" {
							lb = len(r.PartitionsOf(s.left))
						}
						m := len(members)
						switch {
						case m > 2*n && s.joined != "":
							joins = append(joins, float64(moves-lb))
						case m > 2*n:
							leaves = append(leaves, float64(moves-lb))
						case lb > 0 && s.joined != "":
							tightJoins = append(tightJoins, float64(moves-lb)/float64(lb))
						case lb > 0:
							tightLeaves = append(tightLeaves, float64(moves-lb)/float64(lb))
						}
					}
					r = nr
				}
			}
			t.Logf("n=%d Q=%4d  roomy extra moves: join %s, leave %s;  tight extra/bound: join %s, leave %s",
				n, q, stats(joins), stats(leaves), stats(tightJoins), stats(tightLeaves))
			// The figures Claim documents for roomy memberships.
			if len(joins) > 0 && slices.Max(joins) > 0 || len(leaves) > 0 && slices.Max(leaves) > 1 {
				t.Errorf("n=%d Q=%d: roomy joins or leaves cost more than documented", n, q)
			}
		}
	}
}

func stats(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return fmt.Sprintf("max %.2f mean %.2f (%d)", slices.Max(xs), sum/float64(len(xs)), len(xs))
}

// TestClaimLeaveFreshRing measures the first leave from a new ring, for
// every member in turn, and logs the extra moves relative to the leaver's
// partitions (go test -v -run TestClaimLeaveFreshRing).
func TestClaimLeaveFreshRing(t *testing.T) {
	const n = 3
	for _, q := range []int{64, 256} {
		for _, m := range []int{5, 6, 8, 12, 24} {
			members := nodeNames(m)
			r, err := ring.Claim(cfgOf(q), nil, members, n)
			if err != nil {
				t.Fatal(err)
			}
			var extra []float64
			for _, leaver := range members {
				rest := slices.DeleteFunc(slices.Clone(members), func(x string) bool { return x == leaver })
				next, err := ring.Claim(cfgOf(q), r, rest, n)
				if err != nil {
					t.Fatal(err)
				}
				checkClaim(t, r, next, rest, n)
				checkMovement(t, r, next, rest, n, step{left: leaver})
				lb := len(r.PartitionsOf(leaver))
				extra = append(extra, float64(len(ring.Moves(r, next))-lb)/float64(lb))
			}
			t.Logf("n=%d Q=%3d M=%2d→%2d  extra/leaver's partitions: %s", n, q, m, m-1, stats(extra))
			if m > 2*n+1 && slices.Max(extra) > 0.1 {
				t.Errorf("Q=%d M=%d: a leave from a new ring moved more than 10%% extra", q, m)
			}
		}
	}
}
