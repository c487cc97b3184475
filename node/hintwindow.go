package node

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/ring"
)

// downClock remembers since when each node has been down, for the hint
// window: a primary down for longer than Handoff.HintWindow gets no
// fallback (no more hints are collected for it); writes go to the
// remaining replicas and anti-entropy repairs it when it returns. Hints
// already held stay until delivered.
type downClock struct {
	mu    sync.Mutex
	since map[string]time.Time
	count atomic.Int32 // len(since), read without the lock
}

// MarkDown records that gossip declared node down (dead or left) at at,
// unless it is known down since earlier.
func (n *Node) MarkDown(node string, at time.Time) {
	n.down.mu.Lock()
	defer n.down.mu.Unlock()
	if _, ok := n.down.since[node]; !ok {
		n.down.since[node] = at
		n.down.count.Add(1)
	}
	// What this node holds for node is held hints from now on: list them.
	n.WakeHandoff()
}

// MarkUp records that node is alive again.
func (n *Node) MarkUp(node string) {
	n.down.mu.Lock()
	defer n.down.mu.Unlock()
	if _, ok := n.down.since[node]; ok {
		delete(n.down.since, node)
		n.down.count.Add(-1)
	}
}

// targets is routing.targets with the hint window applied: fallbacks for
// a primary down longer than the window are left out. A primary that
// liveness reports down and that no MarkDown announced starts its window
// now.
func (n *Node) targets(rt *routing, partition, nval int) ([]ring.PrefEntry, []string) {
	pl, spares := rt.targets(partition, nval, n.live)
	window := n.cfg.Handoff.HintWindow
	fallbacks := slices.ContainsFunc(pl, func(e ring.PrefEntry) bool { return e.Role == ring.Fallback })
	if window <= 0 || (!fallbacks && n.down.count.Load() == 0) {
		return pl, spares
	}
	now := n.cfg.Clock.Now()
	n.down.mu.Lock()
	defer n.down.mu.Unlock()
	return slices.DeleteFunc(pl, func(e ring.PrefEntry) bool {
		if e.Role == ring.Primary {
			if _, ok := n.down.since[e.Node]; ok { // back up
				delete(n.down.since, e.Node)
				n.down.count.Add(-1)
			}
			return false
		}
		since, ok := n.down.since[e.Owner]
		if !ok {
			n.down.since[e.Owner] = now
			n.down.count.Add(1)
			return false
		}
		return now.Sub(since) >= window
	}), spares
}
