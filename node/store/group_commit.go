package store

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// groupCommit makes Badger's unsynced writes durable in groups. A goroutine
// runs commits (one call of sync each, normally badgerSyncer.sync), and
// callers of wait block until a commit that began after they joined has
// finished. It runs in one of two modes:
//
//   - interval (SyncInterval): a commit every interval of the engine's
//     clock for writes nobody waits for, and, as in immediate mode, a
//     commit as soon as someone waits (WaitDurable, for a dw write), so a
//     durable acknowledgement costs one or two fsyncs, not a tick.
//   - immediate (SyncAlways): no timer. Every write joins a round and waits
//     for it before returning. A commit starts as soon as a round opens and
//     no commit is running; while one runs, the writes that return meanwhile
//     join the next round, and the goroutine starts that round's commit the
//     moment the running one ends. The goroutine is the leader and the
//     waiters its followers: under load the commits run back to back, each
//     covering every write that returned while the previous one ran, and an
//     idle engine does nothing.
//
// A caller of wait joins the round that the next commit will release. A
// commit detaches that round before it calls sync, so every waiter in it
// registered, and so every write it waits for had returned, before the fsync
// began: the fsync covers them. Waiters that arrive during the fsync join a
// new round, released by the commit after. Every waiter of a round gets that
// commit's error.
type groupCommit struct {
	sync   func() error
	logger *slog.Logger
	ticker clock.Ticker // interval mode; nil in immediate mode
	clock  clock.Clock
	// delay is how long a commit that someone waits for waits before it
	// fsyncs, gathering the waiters that arrive meanwhile into its round,
	// unless the engine is idle (see gather).
	delay time.Duration
	// inflight counts the writes between beginWrite and endWrite, and
	// lastEnd is when the last fsync ended (Unix nanoseconds on clock; 0:
	// none yet).
	inflight atomic.Int64
	lastEnd  atomic.Int64
	// kick wakes the goroutine when a round opens. Its buffer of one means
	// a pending kick is never lost: the commit it triggers detaches every
	// round opened before it.
	kick chan struct{}

	// writes counts writes that have returned; a commit with no new writes
	// and no waiters skips the fsync, so an idle engine costs nothing.
	writes atomic.Uint64

	commitMu sync.Mutex // serialises commits (the goroutine's, Sync, Close)
	synced   uint64     // writes at the last successful fsync; under commitMu

	// Figures for SyncStats: fsyncs run, the time they took, and the
	// waiters they released.
	syncs, syncNanos, released atomic.Uint64

	mu     sync.Mutex
	next   *commitRound // released by the next commit; nil while nobody waits
	closed bool

	stop chan struct{}
	done chan struct{}

	// onWait, if set (by tests), runs after a waiter has joined a round.
	onWait func()
}

type commitRound struct {
	done    chan struct{}
	waiters int   // joined; under groupCommit.mu
	err     error // set before done is closed
}

// newGroupCommit starts interval mode. It arms the ticker before it returns,
// so that a test that advances a fake clock right after opening the engine
// reaches it.
func newGroupCommit(clk clock.Clock, interval, delay time.Duration, sync func() error, logger *slog.Logger) *groupCommit {
	g := newGroupCommitBase(clk, delay, sync, logger)
	g.ticker = clk.NewTicker(interval)
	g.kick = make(chan struct{}, 1)
	go g.run()
	return g
}

// newImmediateCommit starts immediate mode: a commit whenever someone waits.
func newImmediateCommit(clk clock.Clock, delay time.Duration, sync func() error, logger *slog.Logger) *groupCommit {
	g := newGroupCommitBase(clk, delay, sync, logger)
	g.kick = make(chan struct{}, 1)
	go g.run()
	return g
}

func newGroupCommitBase(clk clock.Clock, delay time.Duration, sync func() error, logger *slog.Logger) *groupCommit {
	return &groupCommit{
		clock:  clk,
		delay:  delay,
		sync:   sync,
		logger: logger,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
}

func (g *groupCommit) run() {
	defer close(g.done)
	var tick <-chan time.Time // nil (never ready) in immediate mode
	if g.ticker != nil {
		defer g.ticker.Stop()
		tick = g.ticker.C()
	}
	for {
		select {
		case <-g.stop:
			return
		case <-tick:
		case <-g.kick:
			g.gather()
		}
		// Errors reach the waiters and the log; the next tick, waiter, Sync
		// or Close retries.
		_ = g.commit()
	}
}

// gather waits out the commit delay, or until Close, before a commit that
// someone waits for, so that the waiters arriving meanwhile join its round
// and share its fsync: under load, fsyncs no longer follow one another for
// a waiter or two each. On this project's 2-core VM a 300 µs delay took 3
// nodes from 3,071-3,192 to 3,798-3,956 PUT/s, as fewer fsyncs left more
// CPU to the writes (make bench-wrk).
//
// An idle engine skips the delay: when no write is in progress and no
// commit has ended within the delay, nobody is about to join, and waiting
// would only add to a lone writer's latency. (It added more than the
// delay: a timer under a millisecond fires late on an idle Go process. A
// lone client's PUT through 3 nodes took 2.8 ms at the median with the
// delay, 1.55 ms without.) The recent fsync counts as well as the writes
// in progress because, under load, the count of writes in progress often
// falls to zero while more are still on their way over the network; a
// busy engine is rarely idle by both, so it keeps the delay's batching.
func (g *groupCommit) gather() {
	if g.delay <= 0 {
		return
	}
	if g.inflight.Load() == 0 {
		last := g.lastEnd.Load()
		if last == 0 || g.clock.Since(time.Unix(0, last)) >= g.delay {
			return
		}
	}
	t := g.clock.NewTimer(g.delay)
	defer t.Stop()
	select {
	case <-t.C():
	case <-g.stop:
	}
}

// beginWrite and endWrite bracket a write that is being applied: while one
// is, a commit does not take the engine for idle.
func (g *groupCommit) beginWrite() { g.inflight.Add(1) }
func (g *groupCommit) endWrite()   { g.inflight.Add(-1) }

// noteWrite records that a write has returned.
func (g *groupCommit) noteWrite() { g.writes.Add(1) }

// wait blocks until the next commit completes, ctx ends, or the engine
// closes (its final commit releases every waiter). It returns that commit's
// sync error.
func (g *groupCommit) wait(ctx context.Context) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if g.next == nil {
		g.next = &commitRound{done: make(chan struct{})}
		select {
		case g.kick <- struct{}{}:
		default: // a kick is pending: its commit will take this round
		}
	}
	r := g.next
	r.waiters++
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
		start := g.clock.Now()
		err = g.sync()
		end := g.clock.Now()
		g.lastEnd.Store(end.UnixNano())
		g.syncs.Add(1)
		g.syncNanos.Add(uint64(end.Sub(start)))
		if err != nil {
			g.logger.Error("store: group commit fsync failed", "err", err)
		} else {
			g.synced = w
		}
	}
	if r != nil {
		// r was detached under mu: nobody joins it any more.
		g.released.Add(uint64(r.waiters))
		r.err = err
		close(r.done)
	}
	return err
}

// close stops the goroutine and runs a last commit, which releases every
// waiter with its result. Later waits return ErrClosed.
func (g *groupCommit) close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	<-g.done
	return g.commit()
}

// SyncStats are the group commit's figures since the engine opened.
type SyncStats struct {
	// Syncs counts the fsync rounds run (each syncs every file that needs
	// it), and SyncTime is the time they took together.
	Syncs    uint64
	SyncTime time.Duration
	// Waiters counts the durable waits the rounds released: writes under
	// SyncAlways, WaitDurable calls under SyncInterval. Waiters/Syncs is
	// how many writes shared an fsync.
	Waiters uint64
}

func (g *groupCommit) stats() SyncStats {
	return SyncStats{Syncs: g.syncs.Load(), SyncTime: time.Duration(g.syncNanos.Load()), Waiters: g.released.Load()}
}
