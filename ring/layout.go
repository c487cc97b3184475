package ring

import (
	"cmp"
	"slices"
)

// initial lays out a new ring of q partitions over m members (indexes into
// the sorted member list). When separation is out of reach it is round
// robin, which crowds only the windows across the wrap. Otherwise it is
// what a claim makes of a one-member ring (member 0 owning everything) when
// the others join at once. That is separated like every claim, and it is
// irregular where round robin is periodic. In round robin a leaver's
// partitions all have the same 2n-2 neighbours, none of which can take them
// over without crowding, so with n = 3 the first leave from 6 to 16 nodes
// costs 25-80% extra moves; from the joined ring it costs none from 8
// nodes up (TestClaimLeaveFreshRing).
func initial(q, m, n int) []int {
	if !Feasible(q, m, n) {
		return roundRobin(q, m)
	}
	c := newClaimer(q, m, n)
	orig := make([]int, q)
	for p := range orig {
		c.assign(p, 0)
	}
	c.target = targets(q, c.count, nil)
	c.releaseCrowded()
	return c.finish(orig)
}

// roundRobin gives partition p to member p%m.
func roundRobin(q, m int) []int {
	rr := make([]int, q)
	for p := range rr {
		rr[p] = p % m
	}
	return rr
}

// rrSeparated reports whether round robin keeps every n consecutive
// partitions distinct: its only short gap is the wrap-around one, q%m long
// when q%m > 0.
func rrSeparated(q, m, n int) bool {
	return m >= n && (q%m == 0 || q%m >= n)
}

// layout returns a ring of q partitions in which member x owns target[x]
// partitions and any two partitions of one member are at least n apart. It
// requires 1 <= n <= q and every target[x] <= q/n, which Feasible checks.
//
// Construction: let k = floor(q/n) and cut the ring into k contiguous
// blocks of floor(q/k) or ceil(q/k) partitions, the longer ones first; every
// block holds at least n partitions because k <= q/n. Visit the partitions
// column by column: slot 0 of every block in block order, then slot 1, and
// so on (a block that has no such slot is skipped). Deal the members out
// along that order, each taking target[x] consecutive positions, largest
// targets first.
//
// Why it is separated. A member takes at most k consecutive positions of
// the order, so it lands in at most two consecutive slot rows and in each
// block at most once. A window of n partitions meets at most two adjacent
// blocks, so only copies in adjacent blocks b, b+1 could collide: at slots
// s in b and t in b+1 their distance is len(b)-s+t >= n whenever t >= s.
// t < s would need the member to hold slot s of block b and slot s-1 of
// block b+1, i.e. to run from block b+1 in row s-1 round to block b in row
// s: k positions, so its target is exactly k. The members with target k
// come first and fill whole rows (there are at most floor(q/k) of them and
// the first floor(q/k) rows are full), so they hold one slot index in every
// block and their copies are exactly one block length apart. Across the
// wrap from the last block to block 0 the slot index only grows, so those
// copies are a block length plus one apart.
func layout(q int, target []int, n int) []int {
	k := q / n
	s, long := q/k, q%k // block b has s+1 partitions if b < long, else s
	order := make([]int, 0, q)
	for slot := 0; slot <= s; slot++ {
		for b := range k {
			size := s
			if b < long {
				size++
			}
			if slot < size {
				order = append(order, b*s+min(b, long)+slot)
			}
		}
	}
	members := make([]int, len(target))
	for i := range members {
		members[i] = i
	}
	slices.SortStableFunc(members, func(a, b int) int { return cmp.Compare(target[b], target[a]) })
	owner := make([]int, q)
	i := 0
	for _, x := range members {
		for range target[x] {
			owner[order[i]] = x
			i++
		}
	}
	return owner
}

// relayout replaces an assignment that settle could not finish with a
// separated ring that keeps as many partitions as it can with their owner
// in orig. Candidates: the block layout of the current targets and, when
// it is separated, round robin, each at every rotation (sampled on large
// rings) and relabelled (members with equal targets are interchangeable).
func (c *claimer) relayout(orig []int) []int {
	m := len(c.target)
	var best []int
	bestKept := -1
	consider := func(owner []int) {
		if k := kept(owner, orig); k > bestKept {
			best, bestKept = owner, k
		}
	}
	pats := [][]int{layout(c.q, c.target, c.n)}
	if rrSeparated(c.q, m, c.n) {
		// Round robin dealt to the members with the largest targets first,
		// so that pattern member x owns exactly target[x].
		byTarget := make([]int, m)
		for i := range byTarget {
			byTarget[i] = i
		}
		slices.SortStableFunc(byTarget, func(a, b int) int { return cmp.Compare(c.target[b], c.target[a]) })
		pat := make([]int, c.q)
		for p := range pat {
			pat[p] = byTarget[p%m]
		}
		pats = append(pats, pat)
	}
	step := max(1, c.q/256) // bound the search on large rings
	for _, pat := range pats {
		for off := 0; off < c.q; off += step {
			perm := relabel(pat, off, orig, c.target)
			owner := make([]int, c.q)
			for p := range owner {
				owner[p] = perm[pat[(p+off)%c.q]]
			}
			consider(owner)
		}
	}
	return best
}

// relabel maps the members of the rotated pattern pat[(p+off)%q] to members
// with the same target, greedily by how many partitions each pairing keeps.
func relabel(pat []int, off int, orig, target []int) []int {
	q, m := len(pat), len(target)
	type pair struct{ from, to int }
	overlap := make(map[pair]int)
	for p := range q {
		a, b := pat[(p+off)%q], orig[p]
		if b >= 0 && target[a] == target[b] {
			overlap[pair{a, b}]++
		}
	}
	pairs := make([]pair, 0, len(overlap))
	for pr := range overlap {
		pairs = append(pairs, pr)
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		return cmp.Or(cmp.Compare(overlap[y], overlap[x]), cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to))
	})
	perm := make([]int, m)
	used := make([]bool, m)
	for i := range perm {
		perm[i] = -1
	}
	for _, pr := range pairs {
		if perm[pr.from] < 0 && !used[pr.to] {
			perm[pr.from], used[pr.to] = pr.to, true
		}
	}
	for a := range perm {
		for b := 0; perm[a] < 0; b++ {
			if !used[b] && target[b] == target[a] {
				perm[a], used[b] = b, true
			}
		}
	}
	return perm
}
