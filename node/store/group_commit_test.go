package store

import (
	"context"
	"errors"
	"log/slog"
	"testing"
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
	g := newGroupCommit(clk, time.Second, s.sync, slog.New(slog.DiscardHandler))
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
	g := newGroupCommit(clk, time.Second, func() error { calls++; return nil }, slog.New(slog.DiscardHandler))
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
