package ring

// restore swaps pairs of partitions between two members while that puts
// more partitions back with their owner in orig and keeps every window of
// n apart. Counts do not change, so balance holds.
func (c *claimer) restore(orig []int) {
	for improved := true; improved; {
		improved = false
		for p, a := range c.owner {
			b := orig[p]
			if b < 0 || a == b {
				continue
			}
			for p2, o := range c.owner {
				if o != b {
					continue
				}
				gain := 1
				if orig[p2] == b {
					gain--
				}
				if orig[p2] == a {
					gain++
				}
				if gain <= 0 || !c.swappable(p, p2) {
					continue
				}
				c.owner[p], c.owner[p2] = b, a
				improved = true
				break
			}
		}
	}
}

// swappable reports whether exchanging the owners of p and p2 keeps both
// owners' partitions n apart.
func (c *claimer) swappable(p, p2 int) bool {
	a, b := c.owner[p], c.owner[p2]
	c.owner[p], c.owner[p2] = -2, -2
	ok := c.fits(b, p) && c.fits(a, p2)
	c.owner[p], c.owner[p2] = a, b
	return ok
}

// kept counts the partitions whose owner is the same in owner and orig.
func kept(owner, orig []int) int {
	k := 0
	for p := range owner {
		if owner[p] == orig[p] {
			k++
		}
	}
	return k
}

// repair swaps owners of pairs of partitions (min-conflicts local search
// with a short tabu list) until no two partitions of a member are closer
// than n, preferring among equally good swaps those that keep partitions
// with their owner in orig. It gives up after a budget of swaps that grows
// with q and reports whether it succeeded. Ties are broken by a PRNG with a
// fixed seed, so the result is deterministic.
func (c *claimer) repair(orig []int) bool {
	rnd := splitmix(c.q)
	tabu := make([]int, c.q) // step until which a partition may not move
	clash := make([]int, c.q)
	bad := 0 // partitions with clash > 0
	for p, x := range c.owner {
		if clash[p] = c.clash(x, p); clash[p] > 0 {
			bad++
		}
	}
	// recount refreshes the counts within n-1 of p, whose owner changed.
	recount := func(p int) {
		for d := -(c.n - 1); d < c.n; d++ {
			r := (p + d) & (c.q - 1)
			was := clash[r] > 0
			clash[r] = c.clash(c.owner[r], r)
			if now := clash[r] > 0; now != was {
				if now {
					bad++
				} else {
					bad--
				}
			}
		}
	}
	budget := 4*c.q + 1000
	for step := 1; step <= budget; step++ {
		if bad == 0 {
			return true
		}
		k := rnd.intN(bad)
		p := 0
		for ; clash[p] == 0 || k > 0; p++ {
			if clash[p] > 0 {
				k--
			}
		}
		a := c.owner[p]
		best, bestD, bestM, ties := -1, 0, 0, 0
		for p2, b := range c.owner {
			if b == a || tabu[p2] > step {
				continue
			}
			before := clash[p] + c.clash(b, p2)
			c.owner[p], c.owner[p2] = b, a
			d := c.clash(b, p) + c.clash(a, p2) - before
			c.owner[p], c.owner[p2] = a, b
			m := 0
			if orig[p] == a {
				m++
			}
			if orig[p2] == b {
				m++
			}
			if orig[p] == b {
				m--
			}
			if orig[p2] == a {
				m--
			}
			switch {
			case best < 0 || d < bestD || d == bestD && m < bestM:
				best, bestD, bestM, ties = p2, d, m, 1
			case d == bestD && m == bestM:
				ties++
				if rnd.intN(ties) == 0 {
					best = p2
				}
			}
		}
		if best < 0 {
			continue
		}
		c.owner[p], c.owner[best] = c.owner[best], a
		tabu[p], tabu[best] = step+7, step+7
		recount(p)
		recount(best)
	}
	return false
}

// splitmix is SplitMix64, a PRNG small enough to carry here so that a
// claim repeats bit for bit whatever the Go release.
type splitmix uint64

// intN returns a number in [0, n), n > 0.
func (s *splitmix) intN(n int) int {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n))
}
