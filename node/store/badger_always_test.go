package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4/y"
)

// syncProbe instruments the group commit of a Badger under SyncAlways. It
// numbers events on one sequence: a write applied (before it waits for a
// commit), the start and the end of each fsync, the return of each Put. A
// Put returned durable if an fsync started after its write was applied and
// ended before it returned.
type syncProbe struct {
	seq     atomic.Uint64
	started atomic.Int64 // fsyncs begun

	// before, if set, runs at the start of fsync n (from 1), after its
	// start is numbered; it may block, and an error it returns is the
	// fsync's result in place of a real one.
	before func(n int) error

	mu      sync.Mutex
	applied map[string]uint64 // key → sequence number of its write
	syncs   []syncSpan
}

type syncSpan struct {
	start, end uint64
	err        error
}

// probeBadger opens a Badger under SyncAlways with p's instruments in
// place. Every writer that has joined a commit round is reported on joined.
func probeBadger(t *testing.T, before func(n int) error) (b *Badger, p *syncProbe, joined <-chan struct{}) {
	t.Helper()
	b = openBadgerForTest(t, SyncAlways).(*Badger)
	p = &syncProbe{before: before, applied: map[string]uint64{}}
	inner := b.gc.sync
	// Set before any write: the commit goroutine calls sync only after a
	// writer's kick, which these assignments happen before.
	b.gc.sync = func() error {
		start := p.seq.Add(1)
		n := int(p.started.Add(1))
		var err error
		if p.before != nil {
			err = p.before(n)
		}
		if err == nil {
			err = inner()
		}
		end := p.seq.Add(1)
		p.mu.Lock()
		p.syncs = append(p.syncs, syncSpan{start, end, err})
		p.mu.Unlock()
		return err
	}
	b.onApplied = func(batch []Op) {
		s := p.seq.Add(1)
		p.mu.Lock()
		p.applied[string(batch[0].Key)] = s
		p.mu.Unlock()
	}
	j := make(chan struct{}, 64)
	b.gc.mu.Lock()
	b.gc.onWait = func() { j <- struct{}{} }
	b.gc.mu.Unlock()
	return b, p, j
}

type putResult struct {
	key      string
	returned uint64 // sequence number after Put returned
	err      error
}

// goPut starts a Put of key and reports its result on results.
func (p *syncProbe) goPut(b *Badger, key string, results chan<- putResult) {
	go func() {
		err := b.Put(1, []byte(key), []byte("v-"+key))
		results <- putResult{key, p.seq.Add(1), err}
	}()
}

// coveringSync returns an fsync that started after r's write was applied
// and ended before its Put returned.
func (p *syncProbe) coveringSync(t *testing.T, r putResult) syncSpan {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	applied, ok := p.applied[r.key]
	if !ok {
		t.Fatalf("%s: Put returned (%v) but its write was never applied", r.key, r.err)
	}
	for _, s := range p.syncs {
		if s.start > applied && s.end < r.returned {
			return s
		}
	}
	t.Fatalf("%s: Put returned at %d with no fsync between its write at %d and then; fsyncs: %v",
		r.key, r.returned, applied, p.syncs)
	return syncSpan{}
}

func (p *syncProbe) syncCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.syncs)
}

func recvResult(t *testing.T, results <-chan putResult) putResult {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(10 * time.Second): // a hang guard, not a wait
		t.Fatal("Put did not return")
		return putResult{}
	}
}

func noResult(t *testing.T, results <-chan putResult, when string) {
	t.Helper()
	select {
	case r := <-results:
		t.Fatalf("Put of %s returned (%v) %s", r.key, r.err, when)
	default:
	}
}

// TestBadgerAlwaysWritersShareFsyncs: while one fsync runs, the writers that
// return meanwhile wait, then share the next fsync, which starts at once.
// N writers cost 2 fsyncs, and every Put returns after an fsync that began
// after its write.
func TestBadgerAlwaysWritersShareFsyncs(t *testing.T) {
	const writers = 8
	started, gate := make(chan struct{}), make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	b, p, joined := probeBadger(t, func(n int) error {
		if n == 1 {
			close(started)
			<-gate
		}
		return nil
	})
	t.Cleanup(openGate) // before Close, should the test fail first
	results := make(chan putResult, writers)
	p.goPut(b, "w0", results)
	await(t, joined, "a writer to join")
	await(t, started, "the first fsync") // fsync 1, for w0, holds
	for i := 1; i < writers; i++ {
		p.goPut(b, fmt.Sprintf("w%d", i), results)
		await(t, joined, "a writer to join")
	}
	noResult(t, results, "before its fsync")
	openGate()
	for range writers {
		r := recvResult(t, results)
		if r.err != nil {
			t.Fatalf("%s: %v", r.key, r.err)
		}
		p.coveringSync(t, r)
	}
	if n := p.syncCount(); n != 2 {
		t.Fatalf("%d concurrent writers caused %d fsyncs, want 2 (one for the first, one shared by the rest)", writers, n)
	}
	for i := range writers {
		k := fmt.Sprintf("w%d", i)
		if got := mustGet(t, b, 1, k); string(got) != "v-"+k {
			t.Fatalf("%s = %q", k, got)
		}
	}
}

// TestBadgerAlwaysEveryPutCovered: free-running writers; each Put returns
// only after an fsync that began after its write.
func TestBadgerAlwaysEveryPutCovered(t *testing.T) {
	const writers, perWriter = 16, 20
	b, p, _ := probeBadger(t, nil)
	b.gc.mu.Lock()
	b.gc.onWait = nil // nobody reads joined here
	b.gc.mu.Unlock()
	results := make(chan putResult, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("w%02d-%03d", w, i)
				err := b.Put(1, []byte(key), []byte("v"))
				results <- putResult{key, p.seq.Add(1), err}
			}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.key, r.err)
		}
		p.coveringSync(t, r)
	}
	t.Logf("%d Puts from %d writers: %d fsyncs", writers*perWriter, writers, p.syncCount())
}

// TestBadgerAlwaysSyncErrorReachesWriters: every writer waiting for a
// failed fsync gets its error; later writers get fsyncs of their own.
func TestBadgerAlwaysSyncErrorReachesWriters(t *testing.T) {
	const writers = 5
	diskErr := errors.New("injected fsync failure")
	started, gate := make(chan struct{}), make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	b, p, joined := probeBadger(t, func(n int) error {
		switch n {
		case 1:
			close(started)
			<-gate
		case 2, 4:
			return diskErr
		}
		return nil
	})
	t.Cleanup(openGate) // before Close, should the test fail first
	results := make(chan putResult, writers)
	p.goPut(b, "w0", results)
	await(t, joined, "a writer to join")
	await(t, started, "the first fsync")
	for i := 1; i < writers; i++ {
		p.goPut(b, fmt.Sprintf("w%d", i), results)
		await(t, joined, "a writer to join")
	}
	openGate()
	for range writers {
		r := recvResult(t, results)
		s := p.coveringSync(t, r)
		if r.key == "w0" {
			if r.err != nil {
				t.Fatalf("w0, covered by the good fsync: %v", r.err)
			}
			continue
		}
		if !errors.Is(r.err, diskErr) || !errors.Is(s.err, diskErr) {
			t.Fatalf("%s: got %v, want the error of the fsync it waited for", r.key, r.err)
		}
		if !strings.Contains(r.err.Error(), "store: write 1 ops: sync:") {
			t.Fatalf("%s: error not wrapped: %v", r.key, r.err)
		}
	}

	// The next writer gets a new fsync (3), which succeeds.
	p.goPut(b, "after", results)
	r := recvResult(t, results)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if s := p.coveringSync(t, r); s.err != nil {
		t.Fatalf("covered by a failed fsync: %v", s.err)
	}
	// DropPartition waits for a commit too (4, which fails).
	if err := b.DropPartition(2); !errors.Is(err, diskErr) {
		t.Fatalf("DropPartition: %v, want the fsync error", err)
	}
	if n := p.syncCount(); n != 4 {
		t.Fatalf("%d fsyncs, want 4", n)
	}
}

// TestBadgerAlwaysCloseReleasesWriters: Close waits for the writers waiting
// for an fsync, which get its result, and reports its own final fsync.
func TestBadgerAlwaysCloseReleasesWriters(t *testing.T) {
	const writers = 4
	diskErr := errors.New("injected fsync failure")
	started, gate := make(chan struct{}), make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	b, p, joined := probeBadger(t, func(n int) error {
		if n == 1 {
			close(started)
			<-gate
			return nil
		}
		return diskErr
	})
	t.Cleanup(openGate) // before Close, should the test fail first
	results := make(chan putResult, writers)
	p.goPut(b, "w0", results)
	await(t, joined, "a writer to join")
	await(t, started, "the first fsync")
	for i := 1; i < writers; i++ {
		p.goPut(b, fmt.Sprintf("w%d", i), results)
		await(t, joined, "a writer to join")
	}
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	for !isClosed(b) {
		runtime.Gosched()
	}
	noResult(t, results, "before its fsync")
	notDone(t, closed, "with writers waiting")
	openGate()
	for range writers {
		r := recvResult(t, results)
		p.coveringSync(t, r)
		if want := error(nil); r.key != "w0" {
			want = diskErr
			if !errors.Is(r.err, want) {
				t.Fatalf("%s: %v, want the fsync error", r.key, r.err)
			}
		} else if r.err != nil {
			t.Fatalf("w0: %v", r.err)
		}
	}
	// The failed fsync left writes not known durable: Close's final
	// commit retries, fails as well, and says so.
	if err := waitDone(t, closed); !errors.Is(err, diskErr) || !strings.Contains(err.Error(), "final group commit") {
		t.Fatalf("Close: %v, want the final fsync's error", err)
	}
	if err := b.Put(1, []byte("late"), []byte("v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
}

// isClosed reports whether Close has begun.
func isClosed(b *Badger) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// TestBadgerAlwaysWaitDurableReturnsAtOnce: under always, WaitDurable joins
// no round and starts no fsync.
func TestBadgerAlwaysWaitDurableReturnsAtOnce(t *testing.T) {
	b, p, _ := probeBadger(t, nil)
	mustPut(t, b, 1, "k", "v")
	before := p.syncCount()
	if err := b.WaitDurable(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := p.syncCount(); n != before {
		t.Fatalf("WaitDurable ran %d fsyncs", n-before)
	}
}

// TestBadgerGCKeepsValues: value-log GC, which runs with an iterator pinning
// the rewritten files until their copies are synced, reclaims the files and
// keeps every value, across a reopen.
func TestBadgerGCKeepsValues(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncAlways
	cfg.MemTableSize = 1 << 20
	cfg.ValueLogFileSize = 1 << 20
	cfg.ValueThreshold = 1 << 10
	const keys, rounds = 400, 6
	value := func(round, i int) []byte {
		return bytes.Repeat(fmt.Appendf(nil, "%d-%d;", round, i), 400) // > 2 KiB: in the value log
	}
	// Each round overwrites every key and ends in a table of its own, so
	// that compaction finds the older rounds' values stale.
	for round := range rounds {
		b, err := OpenBadger(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			if err := b.Put(1, fmt.Appendf(nil, "k%04d", i), value(round, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The rounds' tables (all in level 0) are merged by this Flatten, the
	// one compaction that finds the stale versions. It drops a version only
	// below Badger's read watermark, which a freshly opened database moves
	// past the versions it found on a goroutine of its own, some time after
	// Open returned: on a loaded machine Flatten could run first and drop
	// nothing (1 run in 40 under -race beside other tests).
	waitReadWatermark(t, b)
	if err := b.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	before, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.vlog"))
	if err := b.RunGC(0.5); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.vlog"))
	if len(after) >= len(before) {
		t.Fatalf("GC reclaimed nothing: %d value-log files before, %d after", len(before), len(after))
	}
	check := func(b *Badger) {
		for i := range keys {
			if got := mustGet(t, b, 1, fmt.Sprintf("k%04d", i)); !bytes.Equal(got, value(rounds-1, i)) {
				t.Fatalf("k%04d = %.20q…", i, got)
			}
		}
	}
	check(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	check(b)
}

// waitReadWatermark waits until Badger's read watermark (below which
// compactions drop stale versions) has reached the newest version. Badger
// does not export it: the test reaches into its oracle, and fails loudly
// if a Badger release renames what it reaches for.
func waitReadWatermark(t *testing.T, b *Badger) {
	t.Helper()
	orc := reflect.ValueOf(b.db).Elem().FieldByName("orc")
	if !orc.IsValid() || orc.IsNil() {
		t.Fatal("badger.DB has no field orc: update waitReadWatermark")
	}
	rm := orc.Elem().FieldByName("readMark")
	if !rm.IsValid() || rm.Type() != reflect.TypeFor[*y.WaterMark]() {
		t.Fatal("badger's oracle has no *y.WaterMark readMark: update waitReadWatermark")
	}
	mark := (*y.WaterMark)(rm.UnsafePointer())
	if err := mark.WaitForMark(t.Context(), b.db.MaxVersion()); err != nil {
		t.Fatal(err)
	}
}
