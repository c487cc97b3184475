package store

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// groupCommit implements SyncInterval for Badger: a goroutine fsyncs every
// interval of the engine's clock, and WaitDurable callers wait for the
// commit after the one in progress.
//
// A caller of wait joins the round that the next commit will release. A
// commit detaches that round before it calls sync, so every waiter in it
// registered, and so every write it waits for had returned, before the fsync
// began: the fsync covers them. Waiters that arrive during the fsync join a
// new round, released by the commit after.
type groupCommit struct {
	sync   func() error
	logger *slog.Logger
	ticker clock.Ticker

	// writes counts writes that have returned; a tick with no new writes
	// and no waiters skips the fsync, so an idle engine costs nothing.
	writes atomic.Uint64

	commitMu sync.Mutex // serialises commits (ticks and Sync calls)
	synced   uint64     // writes at the last successful fsync; under commitMu

	mu     sync.Mutex
	next   *commitRound // released by the next commit; nil while nobody waits
	closed bool

	stop chan struct{}
	done chan struct{}

	// onWait, if set (by tests), runs after a waiter has joined a round.
	onWait func()
}

type commitRound struct {
	done chan struct{}
	err  error // set before done is closed
}

// newGroupCommit arms the ticker before it returns, so that a test that
// advances a fake clock right after opening the engine reaches it.
func newGroupCommit(clk clock.Clock, interval time.Duration, sync func() error, logger *slog.Logger) *groupCommit {
	g := &groupCommit{
		sync:   sync,
		logger: logger,
		ticker: clk.NewTicker(interval),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go g.run()
	return g
}

func (g *groupCommit) run() {
	defer close(g.done)
	defer g.ticker.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-g.ticker.C():
			// Errors reach the waiters and the log; the next tick retries.
			_ = g.commit()
		}
	}
}

// noteWrite records that a write has returned.
func (g *groupCommit) noteWrite() { g.writes.Add(1) }

// wait blocks until the next commit completes, ctx ends, or the engine
// closes (its final commit releases every waiter).
func (g *groupCommit) wait(ctx context.Context) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if g.next == nil {
		g.next = &commitRound{done: make(chan struct{})}
	}
	r := g.next
	hook := g.onWait
	g.mu.Unlock()
	if hook != nil {
		hook()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commit fsyncs if anything was written or anyone waits, then releases the
// waiters of the round it detached.
func (g *groupCommit) commit() error {
	g.commitMu.Lock()
	defer g.commitMu.Unlock()
	g.mu.Lock()
	r := g.next
	g.next = nil
	g.mu.Unlock()
	// Loaded after detaching r: every write a waiter in r waits for is
	// counted.
	w := g.writes.Load()
	var err error
	if r != nil || w != g.synced {
		if err = g.sync(); err != nil {
			g.logger.Error("store: group commit fsync failed", "err", err)
		} else {
			g.synced = w
		}
	}
	if r != nil {
		r.err = err
		close(r.done)
	}
	return err
}

// close stops the ticker and runs a last commit, which releases every
// waiter. Later waits return ErrClosed.
func (g *groupCommit) close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	<-g.done
	return g.commit()
}
