package ring

import (
	"cmp"
	"slices"
)

// claimer is the working state of one rebalance. Members are indexes into
// the sorted member list; owner[p] is -1 while partition p is unassigned.
type claimer struct {
	q, n     int
	feasible bool
	owner    []int
	count    []int
	target   []int
	dist     []int // scratch for spread
}

func newClaimer(q, m, n int) *claimer {
	c := &claimer{
		q:        q,
		n:        n,
		feasible: Feasible(q, m, n),
		owner:    make([]int, q),
		count:    make([]int, m),
		dist:     make([]int, q),
	}
	for p := range c.owner {
		c.owner[p] = -1
	}
	return c
}

// clone returns an independent copy of c.
func (c *claimer) clone() *claimer {
	d := *c
	d.owner = slices.Clone(c.owner)
	d.count = slices.Clone(c.count)
	d.target = slices.Clone(c.target)
	d.dist = make([]int, c.q)
	return &d
}

// delta is x's surplus (> 0) or deficit (< 0) against its share.
func (c *claimer) delta(x int) int { return c.count[x] - c.target[x] }

// assign gives p to x (-1: unassigns it), keeping the counts.
func (c *claimer) assign(p, x int) {
	if o := c.owner[p]; o >= 0 {
		c.count[o]--
	}
	c.owner[p] = x
	if x >= 0 {
		c.count[x]++
	}
}

// at returns the owner of partition p modulo q (a power of two).
func (c *claimer) at(p int) int { return c.owner[p&(c.q-1)] }

// fits reports whether x could own p without sharing a window of n
// consecutive partitions with another partition of x.
func (c *claimer) fits(x, p int) bool {
	for d := 1; d < c.n; d++ {
		if c.at(p+d) == x || c.at(p-d) == x {
			return false
		}
	}
	return true
}

// clash counts x's partitions other than p within distance n-1 of p.
func (c *claimer) clash(x, p int) int {
	k := 0
	for d := 1; d < c.n && d <= c.q/2; d++ {
		if c.at(p+d) == x {
			k++
		}
		if c.at(p-d) == x && (2*d != c.q) {
			k++
		}
	}
	return k
}

// gap returns the circular distance from p to the nearest other partition
// of x, or q if x owns none.
func (c *claimer) gap(x, p int) int {
	for d := 1; d <= c.q/2; d++ {
		if c.at(p+d) == x || c.at(p-d) == x {
			return d
		}
	}
	return c.q
}

// spread fills c.dist with each partition's circular distance to the
// nearest partition of x (0 for x's own, q if x owns none), in O(q).
func (c *claimer) spread(x int) []int {
	first, last := -1, -1
	for p, o := range c.owner {
		if o == x {
			if first < 0 {
				first = p
			}
			last = p
		}
	}
	if first < 0 {
		for p := range c.dist {
			c.dist[p] = c.q
		}
		return c.dist
	}
	prev := last - c.q // x's partition before p, unwrapped
	for p, o := range c.owner {
		if o == x {
			prev = p
		}
		c.dist[p] = p - prev
	}
	next := first + c.q // x's partition after p, unwrapped
	for p := c.q - 1; p >= 0; p-- {
		if c.owner[p] == x {
			next = p
		}
		c.dist[p] = min(c.dist[p], next-p)
	}
	return c.dist
}

// crowded reports whether two partitions of one member are closer than n.
func (c *claimer) crowded() bool {
	for p, x := range c.owner {
		for d := 1; d < c.n && x >= 0; d++ {
			if c.at(p+d) == x {
				return true
			}
		}
	}
	return false
}

// deficits returns the members under their share, most wanting first.
func (c *claimer) deficits() []int {
	var out []int
	for x := range c.count {
		if c.delta(x) < 0 {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b int) int { return cmp.Compare(c.delta(a), c.delta(b)) })
	return out
}

// releaseCrowded unassigns, for each member, few partitions (see
// spacedSubset) that leave the rest at least n apart.
func (c *claimer) releaseCrowded() {
	parts := make([][]int, len(c.count))
	for p, x := range c.owner {
		if x >= 0 {
			parts[x] = append(parts[x], p)
		}
	}
	keeps := make([]bool, c.q)
	for _, ps := range parts {
		keep := c.spacedSubset(ps)
		if len(keep) == len(ps) {
			continue
		}
		for _, p := range keep {
			keeps[p] = true
		}
		for _, p := range ps {
			if !keeps[p] {
				c.assign(p, -1)
			}
		}
	}
}

// spacedSubset returns a large subset of ps (ascending partitions) whose
// members are pairwise at least n apart around the ring: the best of the
// greedy scans from each of the partitions within n of the first.
func (c *claimer) spacedSubset(ps []int) []int {
	fwd := func(a, b int) int { return ((b-a)%c.q + c.q) % c.q }
	ok := len(ps) <= 1 || fwd(ps[len(ps)-1], ps[0]) >= c.n
	for i := 1; ok && i < len(ps); i++ {
		ok = ps[i]-ps[i-1] >= c.n
	}
	if ok {
		return ps
	}
	var best []int
	for s := 0; s < len(ps) && ps[s] < ps[0]+c.n; s++ {
		kept := []int{ps[s]}
		for i := 1; i < len(ps); i++ {
			if p := ps[(s+i)%len(ps)]; fwd(kept[len(kept)-1], p) >= c.n {
				kept = append(kept, p)
			}
		}
		for len(kept) > 1 && fwd(kept[len(kept)-1], kept[0]) < c.n {
			kept = kept[:len(kept)-1]
		}
		if len(kept) > len(best) {
			best = kept
		}
	}
	return best
}
