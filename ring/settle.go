package ring

import (
	"cmp"
	"slices"
)

// settle moves partitions until every member holds its share. After
// matchFree, each step makes the cheapest move that keeps windows
// uncrowded: fill an unassigned partition, take one from a member over its
// share, or failing both, apply the shortest chain of takes that ends at
// either. When none exists it reports false, unless force is set or
// separation is infeasible: then it makes the least crowding take instead.
func (c *claimer) settle(force bool) bool {
	c.matchFree()
	for {
		defs := c.deficits()
		if len(defs) == 0 {
			return true
		}
		switch {
		case c.fillFree(defs), c.steal(defs):
		case c.feasible && !force:
			if !c.chain(defs) {
				return false
			}
		default:
			c.force(defs[0])
		}
	}
}

// matchFree fills as many unassigned partitions as it can, each with a
// wanting member that fits there and up to each member's deficit: a
// maximum bipartite matching found with augmenting paths (Kuhn), where a
// member's partitions must also stay n apart from one another. Every such
// fill is a move the claim has to make anyway; a greedy fill can strand a
// partition that a different pairing would have filled.
func (c *claimer) matchFree() {
	defs := c.deficits()
	var holes []int
	for p, o := range c.owner {
		if o < 0 {
			holes = append(holes, p)
		}
	}
	if len(holes) == 0 || len(defs) == 0 {
		return
	}
	// A hole with many fitting members is easy to fill; listing them all
	// would cost holes*members on big rings, so lists stop at maxEdges.
	const maxEdges = 64
	edges := make([][]int, len(holes))
	order := make([]int, len(holes))
	for i, h := range holes {
		order[i] = i
		for j := range defs {
			// Past maxEdges, start each hole's list at a different member
			// so that the lists do not all name the same few.
			x := defs[j]
			if len(defs) > maxEdges {
				x = defs[(i+j)%len(defs)]
			}
			if c.fits(x, h) {
				if edges[i] = append(edges[i], x); len(edges[i]) == maxEdges {
					break
				}
			}
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(edges[a]), len(edges[b])) })
	held := make([][]int, len(c.count)) // indexes into holes
	tent := make([]int, c.q)            // member a hole is matched to so far
	for p := range tent {
		tent[p] = -1
	}
	// apart reports whether x could hold hole i n away from its other
	// holes, not counting hole skip (-1 for none).
	apart := func(x, skip, i int) bool {
		for d := 1; d < c.n; d++ {
			for _, r := range [2]int{(holes[i] + d) & (c.q - 1), (holes[i] - d) & (c.q - 1)} {
				if tent[r] == x && (skip < 0 || r != holes[skip]) {
					return false
				}
			}
		}
		return true
	}
	seen := make([]int, len(c.count)) // round in which a member was tried
	round := 0
	var augment func(i int) bool
	augment = func(i int) bool {
		for _, x := range edges[i] {
			if seen[x] == round {
				continue
			}
			seen[x] = round
			if len(held[x]) < -c.delta(x) && apart(x, -1, i) {
				held[x] = append(held[x], i)
				tent[holes[i]] = x
				return true
			}
			for k, j := range held[x] {
				if apart(x, j, i) && augment(j) {
					held[x][k] = i
					tent[holes[i]] = x
					return true
				}
			}
		}
		return false
	}
	for _, i := range order {
		round++
		augment(i)
	}
	for x, hs := range held {
		for _, i := range hs {
			c.assign(holes[i], x)
		}
	}
}

// fillFree gives the unassigned partition with the fewest fitting
// candidates to the fitting member that wants most (then the one whose
// nearest partition is farthest, then the lowest index). Counting stops at
// fewCands candidates and only the first fewCands fitting members are
// weighed, which keeps big rings with many members cheap.
func (c *claimer) fillFree(defs []int) bool {
	const fewCands = 8
	bestP, bestK := -1, 0
	for p, o := range c.owner {
		if o >= 0 {
			continue
		}
		k := 0
		for _, x := range defs {
			if c.fits(x, p) {
				if k++; k == fewCands {
					break
				}
			}
		}
		if k > 0 && (bestP < 0 || k < bestK) {
			bestP, bestK = p, k
			if k == 1 {
				break
			}
		}
	}
	if bestP < 0 {
		return false
	}
	bestX, bestGap, weighed := -1, 0, 0
	for _, x := range defs {
		if weighed == fewCands {
			break
		}
		if !c.fits(x, bestP) {
			continue
		}
		weighed++
		g := c.gap(x, bestP)
		if bestX < 0 || c.delta(x) < c.delta(bestX) || (c.delta(x) == c.delta(bestX) && g > bestGap) {
			bestX, bestGap = x, g
		}
	}
	c.assign(bestP, bestX)
	return true
}

// steal lets the most wanting member that can take one partition from a
// member over its share: from the donor with the largest surplus, then the
// partition farthest from the taker's others, then the lowest.
func (c *claimer) steal(defs []int) bool {
	for _, x := range defs {
		dist := c.spread(x)
		best := -1
		for p, o := range c.owner {
			if o < 0 || o == x || c.delta(o) <= 0 || dist[p] < c.n {
				continue
			}
			if best < 0 {
				best = p
				continue
			}
			if b := c.owner[best]; c.delta(o) > c.delta(b) || (c.delta(o) == c.delta(b) && dist[p] > dist[best]) {
				best = p
			}
		}
		if best >= 0 {
			c.assign(best, x)
			return true
		}
	}
	return false
}

// chain finds, breadth first from every wanting member at once, the
// shortest sequence "x0 takes p1 from x1, x1 takes p2 from x2, …, xk takes
// pk+1" where pk+1 is unassigned or held by a member over its share, and
// every take fits: xi no longer holds pi when it takes pi+1, so a member
// may shift along the ring. Members are distinct along a chain, so each
// take changes only its own member's spacing and fit can be judged on the
// ring before the chain. The intermediate members end with the count they
// started with; the chain costs k+1 moves.
//
// (Letting a member recur, so that a hole can travel further, finds chains
// in a few more cases, but long ones; over random join/leave sequences it
// did not lower the worst-case movement, so chains keep members distinct.)
func (c *claimer) chain(defs []int) bool {
	// A search state is a member that must take one partition, having
	// given vac to the member of state parent (vac -1 for the wanting
	// members the search starts from). States after the start are keyed
	// by vac: the search reaches each partition at most once.
	type state struct{ x, vac, parent int }
	states := make([]state, 0, len(defs))
	for _, x := range defs {
		states = append(states, state{x, -1, -1})
	}
	seen := make([]bool, c.q)
	onPath := make([]bool, len(c.count))
	for head := 0; head < len(states); head++ {
		s := states[head]
		for i := head; i >= 0; i = states[i].parent {
			onPath[states[i].x] = true
		}
		if s.vac >= 0 {
			c.owner[s.vac] = -2 // as if already handed over
		}
		dist := c.spread(s.x)
		if s.vac >= 0 {
			c.owner[s.vac] = s.x
		}
		end := -1
		for p, o := range c.owner {
			if o == s.x || dist[p] < c.n {
				continue
			}
			if o < 0 || c.delta(o) > 0 {
				if end < 0 || dist[p] > dist[end] {
					end = p
				}
				continue
			}
			if !seen[p] && !onPath[o] {
				seen[p] = true
				states = append(states, state{o, p, head})
			}
		}
		for i := head; i >= 0; i = states[i].parent {
			onPath[states[i].x] = false
		}
		if end < 0 {
			continue
		}
		c.assign(end, s.x)
		for i := head; states[i].parent >= 0; i = states[i].parent {
			c.assign(states[i].vac, states[states[i].parent].x)
		}
		return true
	}
	return false
}

// force gives x the takeable partition that crowds it least (unassigned
// first, then farthest from x's others, then the lowest). Used only when
// separation is infeasible.
func (c *claimer) force(x int) {
	type rank struct{ clash, taken, near int } // lower is better
	dist := c.spread(x)
	best, bestRank := -1, rank{}
	for p, o := range c.owner {
		if o == x || (o >= 0 && c.delta(o) <= 0) {
			continue
		}
		r := rank{clash: c.clash(x, p), near: -dist[p]}
		if o >= 0 {
			r.taken = 1
		}
		if best < 0 || cmp.Or(
			cmp.Compare(r.clash, bestRank.clash),
			cmp.Compare(r.taken, bestRank.taken),
			cmp.Compare(r.near, bestRank.near)) < 0 {
			best, bestRank = p, r
		}
	}
	c.assign(best, x)
}

// near reports whether p and p2 are within n-1 of each other around a ring
// of q partitions.
func near(p, p2, n, q int) bool {
	d := ((p2-p)%q + q) % q
	return min(d, q-d) < n
}
