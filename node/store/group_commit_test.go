package store

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// scriptedSync is a sync function that reports each call and blocks until
// the test releases it with the result to return.
type scriptedSync struct {
	called  chan struct{}
	release chan error
}

func newScriptedSync() *scriptedSync {
	return &scriptedSync{called: make(chan struct{}, 16), release: make(chan error)}
}

func (s *scriptedSync) sync() error {
	s.called <- struct{}{}
	return <-s.release
}

func newTestGroupCommit(t *testing.T, s *scriptedSync) (*groupCommit, *clock.Fake, <-chan struct{}) {
	t.Helper()
	clk := clock.NewFake(time.Unix(0, 0))
	g := newGroupCommit(clk, time.Second, 0, s.sync, slog.New(slog.DiscardHandler))
	joined := make(chan struct{}, 16)
	g.onWait = func() { joined <- struct{}{} }
	t.Cleanup(func() {
		go func() { // let the final commit through
			for range s.called {
				s.release <- nil
			}
		}()
		_ = g.close()
		close(s.called)
	})
	return g, clk, joined
}

func TestGroupCommitWaiterDuringSyncWaitsForNextCommit(t *testing.T) {
	s := newScriptedSync()
	g, clk, joined := newTestGroupCommit(t, s)

	g.noteWrite()
	first := make(chan error, 1)
	go func() { first <- g.wait(context.Background()) }()
	<-joined

	clk.Advance(time.Second)
	<-s.called // the first commit's fsync has begun

	// A write that returns now is not covered by the fsync in progress.
	g.noteWrite()
	second := make(chan error, 1)
	go func() { second <- g.wait(context.Background()) }()
	<-joined

	s.release <- nil
	if err := waitDone(t, first); err != nil {
		t.Fatal(err)
	}
	notDone(t, second, "with the fsync that began before it")

	clk.Advance(time.Second)
	<-s.called
	s.release <- nil
	if err := waitDone(t, second); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommitReportsSyncError(t *testing.T) {
	s := newScriptedSync()
	g, clk, joined := newTestGroupCommit(t, s)
	g.noteWrite()
	done := make(chan error, 1)
	go func() { done <- g.wait(context.Background()) }()
	<-joined
	clk.Advance(time.Second)
	<-s.called
	diskErr := errors.New("EIO")
	s.release <- diskErr
	if err := waitDone(t, done); !errors.Is(err, diskErr) {
		t.Fatalf("got %v, want the fsync error", err)
	}
	// The write the failed fsync should have covered is retried on the next
	// tick, although nothing new was written and nobody waits.
	clk.Advance(time.Second)
	<-s.called
	s.release <- nil
}

func TestGroupCommitIdleTicksSkipSync(t *testing.T) {
	calls := 0
	clk := clock.NewFake(time.Unix(0, 0))
	g := newGroupCommit(clk, time.Second, 0, func() error { calls++; return nil }, slog.New(slog.DiscardHandler))
	// commit is what a tick runs; calling it directly keeps the count
	// race-free without waiting for the goroutine.
	if err := g.commit(); err != nil || calls != 0 {
		t.Fatalf("idle commit: err %v, %d fsyncs", err, calls)
	}
	g.noteWrite()
	if err := g.commit(); err != nil || calls != 1 {
		t.Fatalf("commit after a write: err %v, %d fsyncs", err, calls)
	}
	if err := g.commit(); err != nil || calls != 1 {
		t.Fatalf("second idle commit: err %v, %d fsyncs", err, calls)
	}
	if err := g.close(); err != nil || calls != 1 {
		t.Fatalf("close when clean: err %v, %d fsyncs", err, calls)
	}
	if err := g.wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
}

// newTestImmediateCommit starts an immediate-mode groupCommit on s. Every
// waiter that has joined a round is reported on the returned channel.
func newTestImmediateCommit(s *scriptedSync) (*groupCommit, <-chan struct{}) {
	g := newImmediateCommit(clock.Real{}, 0, s.sync, slog.New(slog.DiscardHandler))
	joined := make(chan struct{}, 16)
	g.onWait = func() { joined <- struct{}{} }
	return g, joined
}

// closeScripted closes g, answering every fsync it still runs with result,
// and returns the number of those fsyncs and close's error.
func closeScripted(g *groupCommit, s *scriptedSync, result error) (int, error) {
	closed := make(chan error, 1)
	go func() { closed <- g.close() }()
	n := 0
	for {
		select {
		case err := <-closed:
			return n, err
		case <-s.called:
			n++
			s.release <- result
		}
	}
}

// writeAndWait is a writer under SyncAlways: its write has returned, and it
// waits for a commit.
func writeAndWait(g *groupCommit) <-chan error {
	done := make(chan error, 1)
	g.noteWrite()
	go func() { done <- g.wait(context.Background()) }()
	return done
}

// TestImmediateCommitGroupsWaiters: the writers that return while an fsync
// runs share the next one, which starts as soon as that fsync ends, with no
// timer.
func TestImmediateCommitGroupsWaiters(t *testing.T) {
	const writers = 8
	s := newScriptedSync()
	g, joined := newTestImmediateCommit(s)

	first := writeAndWait(g)
	await(t, joined, "a waiter to join")
	await(t, s.called, "an fsync") // sync 1 began: it covers the first writer only

	var rest [writers - 1]<-chan error
	for i := range rest {
		rest[i] = writeAndWait(g)
		await(t, joined, "a waiter to join")
	}
	for _, done := range rest {
		notDone(t, done, "before any fsync covering it began")
	}

	s.release <- nil
	if err := waitDone(t, first); err != nil {
		t.Fatal(err)
	}
	await(t, s.called, "an fsync") // sync 2 began at once, for all the others
	for _, done := range rest {
		notDone(t, done, "while the fsync covering it runs")
	}
	s.release <- nil
	for _, done := range rest {
		if err := waitDone(t, done); err != nil {
			t.Fatal(err)
		}
	}
	// Everything is durable: no fsync runs with nobody waiting, and
	// closing needs none.
	if n, err := closeScripted(g, s, nil); err != nil || n != 0 {
		t.Fatalf("close: %v after %d more fsyncs, want none", err, n)
	}
	if err := g.wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
}

// TestImmediateCommitReportsSyncError: every waiter of a failed commit gets
// its error, and the next waiter gets a new commit.
func TestImmediateCommitReportsSyncError(t *testing.T) {
	s := newScriptedSync()
	g, joined := newTestImmediateCommit(s)
	first := writeAndWait(g)
	await(t, joined, "a waiter to join")
	await(t, s.called, "an fsync")
	second, third := writeAndWait(g), writeAndWait(g)
	await(t, joined, "a waiter to join")
	await(t, joined, "a waiter to join")
	s.release <- nil
	if err := waitDone(t, first); err != nil {
		t.Fatal(err)
	}
	await(t, s.called, "an fsync")
	diskErr := errors.New("EIO")
	s.release <- diskErr
	for _, done := range []<-chan error{second, third} {
		if err := waitDone(t, done); !errors.Is(err, diskErr) {
			t.Fatalf("got %v, want the fsync error", err)
		}
	}

	fourth := writeAndWait(g)
	await(t, joined, "a waiter to join")
	await(t, s.called, "an fsync")
	s.release <- nil
	if err := waitDone(t, fourth); err != nil {
		t.Fatal(err)
	}
	if _, err := closeScripted(g, s, nil); err != nil {
		t.Fatal(err)
	}
}

// TestImmediateCommitCloseReleasesWaiters: a waiter still waiting when
// close begins gets the result of the commit that covers it, whether that
// is the goroutine's last or close's final one, and close reports the
// failure too.
func TestImmediateCommitCloseReleasesWaiters(t *testing.T) {
	s := newScriptedSync()
	g, joined := newTestImmediateCommit(s)
	first := writeAndWait(g)
	await(t, joined, "a waiter to join")
	await(t, s.called, "an fsync")
	second := writeAndWait(g)
	await(t, joined, "a waiter to join")

	closed := make(chan error, 1)
	go func() { closed <- g.close() }()
	s.release <- nil // sync 1; every later one fails
	if err := waitDone(t, first); err != nil {
		t.Fatal(err)
	}
	diskErr := errors.New("EIO")
	for {
		select {
		case <-s.called:
			s.release <- diskErr
			continue
		case err := <-closed:
			if !errors.Is(err, diskErr) {
				t.Fatalf("close: %v, want the fsync error", err)
			}
		}
		break
	}
	if err := waitDone(t, second); !errors.Is(err, diskErr) {
		t.Fatalf("waiter at close: %v, want the fsync error", err)
	}
	if err := g.wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
}

// await receives from ch: a hang guard, not a wait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("waited in vain for %s", what)
		var zero T
		return zero
	}
}

// newDelayedCommit is an interval-mode group commit whose ticker never
// fires within a test, with a commit delay of delay on clk, counting its
// fsyncs.
func newDelayedCommit(t *testing.T, clk *clock.Fake, delay time.Duration, syncs *int) *groupCommit {
	g := newGroupCommit(clk, time.Hour, delay, func() error { *syncs++; return nil }, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = g.close() })
	return g
}

// With a write in progress, a waiter's commit waits out the delay on the
// engine's clock before it fsyncs, and the waiters that arrive meanwhile
// share the one fsync.
func TestGroupCommitDelayGathersWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(time.Unix(0, 0))
		syncs := 0
		g := newDelayedCommit(t, clk, time.Millisecond, &syncs)
		g.beginWrite() // still in progress when the first waiter joins
		errs := make(chan error, 3)
		for range 3 {
			g.noteWrite()
			go func() { errs <- g.wait(context.Background()) }()
			synctest.Wait()
		}
		g.endWrite()
		clk.Advance(time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if syncs != 0 || len(errs) != 0 {
			t.Fatalf("before the delay passed: %d fsyncs, %d waiters released; want none", syncs, len(errs))
		}
		clk.Advance(time.Nanosecond)
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if syncs != 1 {
			t.Fatalf("three waiters within the delay took %d fsyncs, want 1", syncs)
		}
		if st := g.stats(); st.Syncs != 1 || st.Waiters != 3 {
			t.Fatalf("stats %+v, want 1 sync that released 3 waiters", st)
		}
	})
}

// An idle engine (no write in progress, no commit within the delay) has
// nobody about to join: its commit starts at once. A commit soon after
// another waits out the delay.
func TestGroupCommitIdleCommitsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(time.Unix(1, 0)) // lastEnd 0 means no commit yet
		syncs := 0
		g := newDelayedCommit(t, clk, time.Millisecond, &syncs)
		lone := func() <-chan error {
			g.beginWrite()
			g.noteWrite()
			g.endWrite()
			errs := make(chan error, 1)
			go func() { errs <- g.wait(context.Background()) }()
			synctest.Wait()
			return errs
		}
		if err := <-lone(); err != nil || syncs != 1 {
			t.Fatalf("a lone write on an idle engine: %v, %d fsyncs; want released by 1", err, syncs)
		}
		// The clock has not moved since that commit ended.
		errs := lone()
		if len(errs) != 0 || syncs != 1 {
			t.Fatalf("a write right after a commit was released at once (%d fsyncs); want it held for the delay", syncs)
		}
		clk.Advance(time.Millisecond)
		if err := <-errs; err != nil || syncs != 2 {
			t.Fatalf("after the delay: %v, %d fsyncs; want released by a second", err, syncs)
		}
		clk.Advance(time.Millisecond) // idle again
		if err := <-lone(); err != nil || syncs != 3 {
			t.Fatalf("a lone write a delay after the last commit: %v, %d fsyncs; want released by a third", err, syncs)
		}
	})
}
