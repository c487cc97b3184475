package gopool

import (
	"sync"
	"sync/atomic"
)

// Pool runs functions on reusable goroutines. Create it with New; it must
// not be copied.
type Pool struct {
	work    chan func() // unbuffered: a send succeeds only into a parked goroutine
	done    chan struct{}
	maxIdle int64
	idle    atomic.Int64 // goroutines parked or about to park
	started atomic.Int64 // goroutines started, for tests
	exited  atomic.Int64 // goroutines that returned, for tests
	wg      sync.WaitGroup
	once    sync.Once
}

// New returns a pool that keeps at most maxIdle goroutines parked between
// functions (at least one); a goroutine that finishes a function while that
// many are parked exits.
func New(maxIdle int) *Pool {
	return &Pool{
		work:    make(chan func()),
		done:    make(chan struct{}),
		maxIdle: int64(max(maxIdle, 1)),
	}
}

// Go runs f on a parked goroutine, or on a new one when none is parked. It
// must not be called after Close has begun.
func (p *Pool) Go(f func()) {
	select {
	case p.work <- f:
		return
	default:
	}
	p.wg.Add(1)
	p.started.Add(1)
	go p.loop(f)
}

// loop runs f, then whatever it is handed, until the pool has enough
// parked goroutines without it or is closed.
func (p *Pool) loop(f func()) {
	defer p.wg.Done()
	defer p.exited.Add(1)
	for {
		f()
		// f is dead from here until it is handed the next function, so a
		// parked goroutine keeps nothing of the last one alive (a request
		// frame can be megabytes); TestParkedGoroutineDropsItsFunction.
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		select {
		case f = <-p.work:
			p.idle.Add(-1)
		case <-p.done:
			return
		}
	}
}

// Idle reports how many goroutines are parked or about to park.
func (p *Pool) Idle() int { return int(p.idle.Load()) }

// Close makes the parked goroutines exit and waits for every goroutine of
// the pool, so for every function it runs, to return. Calling it again
// does nothing more.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.done) })
	p.wg.Wait()
}
