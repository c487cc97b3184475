package node

import "sync"

// activity counts work in progress: requests, the background replica
// calls they spawn, and peers' requests. Unlike a sync.WaitGroup it may
// be added to from zero while another goroutine waits, which is what a
// node serving peers sees: a peer's request can arrive at any moment.
// Wait returns once the count has been zero since it was called.
type activity struct {
	mu   sync.Mutex
	n    int
	zero *sync.Cond
}

func newActivity() *activity {
	a := &activity{}
	a.zero = sync.NewCond(&a.mu)
	return a
}

// Add counts one more piece of work.
func (a *activity) Add(delta int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n += delta
	if a.n < 0 {
		panic("node: activity count below zero")
	}
	if a.n == 0 {
		a.zero.Broadcast()
	}
}

// Done counts one piece of work finished.
func (a *activity) Done() { a.Add(-1) }

// Wait blocks until nothing is in progress.
func (a *activity) Wait() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.n > 0 {
		a.zero.Wait()
	}
}
