package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	kv "github.com/cairnkv/cairn/client"
	"github.com/cairnkv/cairn/clock"
)

// slowTarget answers each operation after taking took(i) of the fake
// clock, i counting its operations from 0, and fails those fail says.
type slowTarget struct {
	clk  *clock.Fake
	took func(i int) time.Duration
	fail func(i int) error

	mu  sync.Mutex
	n   int
	ops []opKind
}

func (s *slowTarget) do(_ context.Context, op opKind, _ string, _ []byte) error {
	s.mu.Lock()
	i := s.n
	s.n++
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	if s.took != nil {
		s.clk.Advance(s.took(i))
	}
	if s.fail != nil {
		return s.fail(i)
	}
	return nil
}

var benchEpoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeRunner runs workload c on one client against target, on clk.
func fakeRunner(clk *clock.Fake, target benchTarget, edit func(*benchConfig)) *benchRunner {
	cfg := defaultBenchConfig()
	cfg.Workload = "c"
	cfg.Clients = 1
	cfg.Nodes = []string{"fake"}
	if edit != nil {
		edit(&cfg)
	}
	wl, _ := findWorkload(cfg.Workload)
	return &benchRunner{cfg: cfg, wl: wl, target: target, clock: clk}
}

// TestCoordinatedOmission: at 10 operations per second, the first
// operation stalls for a second and the next nineteen take 50ms each.
// Measured from when each was due, the stall shows in every operation
// that waited behind it: the one due at 100ms is answered at 1050ms, and
// so on until the client has caught up with its schedule. Measured from
// when each was sent, only the stalled one is slow.
func TestCoordinatedOmission(t *testing.T) {
	took := func(i int) time.Duration {
		if i == 0 {
			return time.Second
		}
		return 50 * time.Millisecond
	}
	for _, tc := range []struct {
		rate           float64
		mean, p50, max time.Duration
		over500ms      int64
		elapsed        time.Duration
	}{
		// Operation k (1 to 19) was due at 100ms*k and is answered at
		// 1000ms + 50ms*k: it took 1000ms - 50ms*k.
		{rate: 10, mean: 525 * time.Millisecond, p50: 500 * time.Millisecond, max: time.Second, over500ms: 10, elapsed: 1950 * time.Millisecond},
		// Service times: one second, then 50ms each.
		{rate: 0, mean: 97500 * time.Microsecond, p50: 50 * time.Millisecond, max: time.Second, over500ms: 1, elapsed: 1950 * time.Millisecond},
	} {
		clk := clock.NewFake(benchEpoch)
		r := fakeRunner(clk, &slowTarget{clk: clk, took: took}, func(c *benchConfig) {
			c.Rate = tc.rate
			c.Ops = 20
		})
		res := r.run(context.Background(), 100)
		h := res.stats.ops[opRead].snapshot().latency
		if res.stoppedBy != stopLimit || h.TotalCount() != 20 || res.elapsed != tc.elapsed {
			t.Fatalf("rate %g: stopped by %s after %d operations in %s", tc.rate, res.stoppedBy, h.TotalCount(), res.elapsed)
		}
		us := func(d time.Duration) float64 { return float64(d.Microseconds()) }
		within := func(got float64, want time.Duration) bool { return got >= us(want)*0.999 && got <= us(want)*1.001 }
		if !within(h.Mean(), tc.mean) || !within(float64(h.ValueAtQuantile(50)), tc.p50) || !within(float64(h.Max()), tc.max) {
			t.Errorf("rate %g: mean %.0fµs p50 %dµs max %dµs, want %s %s %s", tc.rate, h.Mean(), h.ValueAtQuantile(50), h.Max(), tc.mean, tc.p50, tc.max)
		}
		var over int64
		for _, b := range h.Distribution() {
			if b.From > (500 * time.Millisecond).Microseconds() {
				over += b.Count
			}
		}
		if over != tc.over500ms {
			t.Errorf("rate %g: %d operations over 500ms, want %d", tc.rate, over, tc.over500ms)
		}
	}
}

func TestDueAt(t *testing.T) {
	// Two clients at 100 operations per second take turns every 10ms.
	for _, tc := range []struct {
		id   int
		j    int64
		want time.Duration
	}{{0, 0, 0}, {1, 0, 10 * time.Millisecond}, {0, 1, 20 * time.Millisecond}, {1, 1, 30 * time.Millisecond}, {1, 500, 10010 * time.Millisecond}} {
		if got := dueAt(benchEpoch, 100, 2, tc.id, tc.j).Sub(benchEpoch); got != tc.want {
			t.Errorf("client %d, operation %d: due at %s, want %s", tc.id, tc.j, got, tc.want)
		}
	}
}

func TestRateWaits(t *testing.T) {
	// A client ahead of its schedule waits for each operation's due time:
	// operations that take 1ms, 10 per second, run one per 100ms.
	clk := clock.NewFake(benchEpoch)
	r := fakeRunner(clk, &slowTarget{clk: clk, took: func(int) time.Duration { return time.Millisecond }}, func(c *benchConfig) {
		c.Rate = 10
		c.Ops = 5
	})
	done := make(chan phaseResult)
	go func() { done <- r.run(context.Background(), 10) }()
	for {
		select {
		case res := <-done:
			h := res.stats.ops[opRead].snapshot().latency
			if h.TotalCount() != 5 || h.Max() > 1001 || res.elapsed != 401*time.Millisecond {
				t.Errorf("%d operations, max %dµs, in %s; want 5, 1ms each, in 401ms", h.TotalCount(), h.Max(), res.elapsed)
			}
			return
		default:
		}
		// Once the client waits, move the clock on until its timer fires
		// (a millisecond at a time: it fires on time).
		if clk.Pending() > 0 {
			clk.Advance(time.Millisecond)
		}
		runtime.Gosched()
	}
}

func TestPhaseStops(t *testing.T) {
	ms := func(int) time.Duration { return time.Millisecond }
	for _, tc := range []struct {
		name   string
		edit   func(*benchConfig)
		cancel bool
		want   string
		ops    int64
	}{
		{"ops", func(c *benchConfig) { c.Ops = 50 }, false, stopLimit, 50},
		// 1ms per operation: 100 of them fill 100ms.
		{"duration", func(c *benchConfig) { c.Duration = 100 * time.Millisecond }, false, stopDuration, 100},
		{"interrupt", nil, true, stopInterrupted, 0},
	} {
		clk := clock.NewFake(benchEpoch)
		r := fakeRunner(clk, &slowTarget{clk: clk, took: ms}, tc.edit)
		ctx, cancel := context.WithCancel(context.Background())
		if tc.cancel {
			cancel()
		}
		res := r.run(ctx, 10)
		cancel()
		n := res.stats.ops[opRead].snapshot().latency.TotalCount()
		if res.stoppedBy != tc.want || n != tc.ops {
			t.Errorf("%s: stopped by %s after %d operations, want %s after %d", tc.name, res.stoppedBy, n, tc.want, tc.ops)
		}
	}
}

func TestLoadPhase(t *testing.T) {
	clk := clock.NewFake(benchEpoch)
	target := &slowTarget{clk: clk, fail: func(i int) error {
		if i%10 == 0 {
			return fmt.Errorf("insert: %w", kv.ErrQuorum)
		}
		return nil
	}}
	r := fakeRunner(clk, target, func(c *benchConfig) { c.Records = 100; c.Clients = 4 })
	res := r.load(context.Background())
	rep := res.report()
	if res.stoppedBy != stopLimit || res.issued != 100 || len(rep.Ops) != 1 || rep.Ops[0].Op != "insert" ||
		rep.Total.Count != 100 || rep.Total.Errors != 10 || rep.Total.ErrorsByKind.Quorum != 10 ||
		!strings.Contains(rep.FirstError, "quorum not met") {
		t.Errorf("load: %s, %d issued, report %+v", res.stoppedBy, res.issued, rep)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errKind
	}{
		{fmt.Errorf("x: %w", kv.ErrNotFound), errNotFound},
		{fmt.Errorf("x: %w", kv.ErrQuorum), errQuorum},
		{fmt.Errorf("x: %w", kv.ErrConflict), errConflict},
		{fmt.Errorf("x: %w", kv.ErrUnavailable), errUnavailable},
		// Out of time is a timeout whatever the last attempt was.
		{fmt.Errorf("x: %w (last attempt: %w)", context.DeadlineExceeded, kv.ErrUnavailable), errTimeout},
		{http.ErrHandlerTimeout, errOther},
		{fmt.Errorf("x: %w", kv.ErrBadRequest), errOther},
		{errors.New("boom"), errOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, errKindNames[got], errKindNames[tc.want])
		}
	}
}

func TestProgressLine(t *testing.T) {
	clk := clock.NewFake(benchEpoch)
	lines := make(chan string, 10)
	r := fakeRunner(clk, nil, nil)
	r.progress = writerFunc(func(b []byte) { lines <- string(b) })
	p := &phase{name: "run", start: clk.Now(), stats: newPhaseStats([]opKind{opRead, opUpdate})}
	for i := range 300 {
		p.stats.ops[opKind(i%2)].record(time.Duration(i+1)*10*time.Microsecond, nil)
	}
	p.stats.ops[opUpdate].record(0, kv.ErrQuorum)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		r.report(p, done)
		close(finished)
	}()
	for clk.Pending() == 0 {
		runtime.Gosched() // the reporter has not armed its ticker yet
	}
	clk.Advance(time.Second)
	if got, want := <-lines, "\r\033[Krun    1s       301 ops/s  p99 2.97 ms  1 errors"; got != want {
		t.Errorf("progress line %q, want %q", got, want)
	}
	close(done)
	<-finished
	if got := <-lines; got != "\r\033[K" {
		t.Errorf("the line is not wiped at the end: %q", got)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) {
	f(append([]byte(nil), b...))
	return len(b), nil
}
