package client

import (
	"sync"
	"time"
)

// pool chooses the node for each attempt: round-robin over the nodes that
// are up, never twice in one call while another is left. It is safe for
// concurrent use.
type pool struct {
	downFor time.Duration // <= 0: never mark a node down

	mu        sync.Mutex
	downUntil []time.Time // per node; zero: up
	next      int
}

// newPool is a pool of n nodes, all up.
func newPool(n int, downFor time.Duration) *pool {
	return &pool{downFor: downFor, downUntil: make([]time.Time, n)}
}

// pick returns the index of the node for the next attempt of a call that
// has already tried the nodes in tried. In order of preference: a node
// that is up and untried; an untried node that is down, the one that
// comes back first; a node that is up; any node. Each pick moves the
// round-robin start on.
func (p *pool) pick(now time.Time, tried []bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.downUntil)
	start := p.next
	p.next = (p.next + 1) % n
	up := func(i int) bool { return !now.Before(p.downUntil[i]) }
	for k := range n {
		if i := (start + k) % n; !tried[i] && up(i) {
			return i
		}
	}
	best := -1
	for k := range n {
		if i := (start + k) % n; !tried[i] && (best < 0 || p.downUntil[i].Before(p.downUntil[best])) {
			best = i
		}
	}
	if best >= 0 {
		return best
	}
	for k := range n {
		if i := (start + k) % n; up(i) {
			return i
		}
	}
	return start
}

// down marks node i down until now+downFor; it reports whether it was up.
func (p *pool) down(i int, now time.Time) bool {
	return p.downAtMost(i, now, p.downFor)
}

// downAtMost marks node i down for d, or DownFor if that is shorter: a
// node that sheds load says when to come back (Retry-After).
func (p *pool) downAtMost(i int, now time.Time, d time.Duration) bool {
	if p.downFor <= 0 {
		return false
	}
	d = min(d, p.downFor)
	p.mu.Lock()
	defer p.mu.Unlock()
	wasUp := !now.Before(p.downUntil[i])
	p.downUntil[i] = now.Add(d)
	return wasUp
}

// up marks node i up: it just answered.
func (p *pool) up(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downUntil[i] = time.Time{}
}

// isDown reports whether node i is skipped at now.
func (p *pool) isDown(i int, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return now.Before(p.downUntil[i])
}
