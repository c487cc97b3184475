package node

import "sync"

// LiveView is a Liveness set by hand, as gossip would tell it: every node
// is up until Set says otherwise. Tests and the simulator give one to each
// node. The zero value is ready; it is safe for concurrent use.
type LiveView struct {
	mu   sync.Mutex
	down map[string]bool
}

var _ Liveness = (*LiveView)(nil)

// Up implements Liveness.
func (v *LiveView) Up(node string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !v.down[node]
}

// Set records whether node is up.
func (v *LiveView) Set(node string, up bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down == nil {
		v.down = map[string]bool{}
	}
	v.down[node] = !up
}
