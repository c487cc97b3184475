package ring

import (
	"testing"

	"pgregory.net/rapid"
)

// separated reports whether any two partitions of one member are closer
// than n around the ring, by brute force.
func separated(owner []int, n int) bool {
	q := len(owner)
	for p := range q {
		for d := 1; d < n; d++ {
			if owner[p] == owner[(p+d)%q] {
				return false
			}
		}
	}
	return true
}

func checkLayout(t interface {
	Helper()
	Fatalf(string, ...any)
}, q, n int, target []int) {
	t.Helper()
	owner := layout(q, target, n)
	count := make([]int, len(target))
	for _, x := range owner {
		count[x]++
	}
	for x := range target {
		if count[x] != target[x] {
			t.Fatalf("q=%d n=%d targets %v: member %d got %d partitions", q, n, target, x, count[x])
		}
	}
	if !separated(owner, n) {
		t.Fatalf("q=%d n=%d targets %v: layout %v is crowded", q, n, target, owner)
	}
}

// TestLayoutBalancedExhaustive checks the construction behind Feasible's
// sufficiency for every balanced share vector it is used with: all ring
// sizes, n up to 8, and every feasible member count (sampled above 64
// members from 512 partitions up).
func TestLayoutBalancedExhaustive(t *testing.T) {
	for q := MinSize; q <= MaxSize; q *= 2 {
		for n := 1; n <= 8; n++ {
			for m := 1; m <= q; m++ {
				if q >= 512 && m > 64 && m%61 != 0 {
					continue
				}
				if !Feasible(q, m, n) {
					continue
				}
				checkLayout(t, q, n, targets(q, make([]int, m), nil))
			}
		}
	}
}

// TestLayoutAnyShares checks the construction for arbitrary (unbalanced)
// share vectors under the bound, in any member order.
func TestLayoutAnyShares(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		q := 8 << rapid.IntRange(0, 5).Draw(t, "log")
		n := rapid.IntRange(1, 9).Draw(t, "n")
		if n > q {
			t.Skip()
		}
		k := q / n
		var target []int
		for left := q; left > 0; {
			c := rapid.IntRange(1, min(k, left)).Draw(t, "share")
			target = append(target, c)
			left -= c
		}
		checkLayout(t, q, n, target)
	})
}
