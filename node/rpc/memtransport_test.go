package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// lostWait is how long a call whose message is lost waits for an answer
// that never comes.
const lostWait = 50 * time.Millisecond

func newMemTransport(t testing.TB, seed int64, clk clock.Clock) *MemTransport {
	tr := NewMemTransport(seed, clk)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// waitUntil polls cond until it holds; for states with no event to wait
// on, such as a timer being armed on a fake clock.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func waitPending(t testing.TB, clk *clock.Fake, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d pending timers", n), func() bool { return clk.Pending() == n })
}

// callAsync runs tr.Call on a goroutine and reports its error.
func callAsync(ctx context.Context, tr Transport, addr, method string, body []byte) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := tr.Call(ctx, addr, method, body)
		errc <- err
	}()
	return errc
}

// signalling answers every method with the body and reports each
// request's method on ran.
func signalling(ran chan<- string) Handler {
	return func(ctx context.Context, method string, body []byte) ([]byte, error) {
		ran <- method
		return body, nil
	}
}

func noneOn[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: got %v", what, v)
	default:
	}
}

func TestMemTransportCall(t *testing.T) {
	checkGoroutines(t)
	tr := newMemTransport(t, 1, nil)
	tr.Listen("b", echo)
	a := tr.Host("a")
	ctx := ctxTimeout(t, waitLong)

	out, err := a.Call(ctx, "b", "echo", []byte("hello"))
	if err != nil || string(out) != "hello" {
		t.Fatalf("echo = %q, %v", out, err)
	}
	if out, err := a.Call(ctx, "b", "echo", nil); err != nil || len(out) != 0 {
		t.Fatalf("empty echo = %q, %v", out, err)
	}
	_, err = a.Call(ctx, "b", "fail", nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != string(errTest) || errors.Is(err, ErrConnection) || errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("fail: %v, want a RemoteError %q", err, errTest)
	}
	if !strings.Contains(err.Error(), "call fail on b") {
		t.Errorf("error %q does not name the call", err)
	}
	if _, err = a.Call(ctx, "b", "nope", nil); !errors.As(err, &re) || !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}
	if _, err = a.Call(ctx, "b", "", nil); err == nil {
		t.Fatal("empty method accepted")
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err = a.Call(done, "b", "echo", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("call with a done ctx: %v", err)
	}
	if s := tr.Stats(); s != (MemStats{Sent: 8, Delivered: 8}) {
		t.Errorf("stats %+v, want 4 requests and 4 replies", s)
	}
}

// TestMemTransportCopiesBodies: neither side can see the other's buffers.
func TestMemTransportCopiesBodies(t *testing.T) {
	tr := newMemTransport(t, 1, nil)
	kept := []byte("server's")
	tr.Listen("b", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		body[0] = 'X' // the handler owns body
		return kept, nil
	})
	in := []byte("client's")
	out, err := tr.Host("a").Call(ctxTimeout(t, waitLong), "b", "m", in)
	if err != nil {
		t.Fatal(err)
	}
	out[0] = 'Y'
	if string(in) != "client's" || string(kept) != "server's" {
		t.Errorf("buffers shared: request %q, handler's answer %q", in, kept)
	}
}

// TestMemTransportContext: the handler gets the caller's deadline, and a
// caller that gives up cancels the handler.
func TestMemTransportContext(t *testing.T) {
	checkGoroutines(t)
	tr := newMemTransport(t, 1, nil)
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	block := blockUntilCancelled(started, ended)
	deadlines := make(chan time.Time, 1)
	tr.Listen("b", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == "block" {
			return block(ctx, method, body)
		}
		dl, _ := ctx.Deadline()
		deadlines <- dl
		return nil, nil
	})
	a := tr.Host("a")

	ctx := ctxTimeout(t, waitLong)
	if _, err := a.Call(ctx, "b", "deadline", nil); err != nil {
		t.Fatal(err)
	}
	if want, _ := ctx.Deadline(); !recv(t, deadlines).Equal(want) {
		t.Errorf("handler deadline differs from the caller's %v", want)
	}

	cctx, cancel := context.WithCancel(context.Background())
	errc := callAsync(cctx, a, "b", "block", nil)
	recv(t, started)
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Errorf("Call: %v, want Canceled", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler ctx ended with %v, want Canceled", err)
	}

	begin := time.Now()
	errc = callAsync(ctxTimeout(t, lostWait), a, "b", "block", nil)
	recv(t, started)
	if err := recv(t, errc); !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) < lostWait {
		t.Errorf("Call: %v after %v, want DeadlineExceeded at %v", err, time.Since(begin), lostWait)
	}
	if err := recv(t, ended); err == nil {
		t.Error("handler ctx not ended at the deadline")
	}
}

// TestMemTransportStopAndRestart: a stopped host refuses new calls at once
// and breaks the calls it was running; Listen brings it back.
func TestMemTransportStopAndRestart(t *testing.T) {
	checkGoroutines(t)
	tr := newMemTransport(t, 1, nil)
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	tr.Listen("b", blockUntilCancelled(started, ended))
	a := tr.Host("a")
	ctx := ctxTimeout(t, waitLong)

	errc := callAsync(ctx, a, "b", "block", nil)
	recv(t, started)
	tr.Stop("b")
	if err := recv(t, errc); !errors.Is(err, ErrConnection) || errors.Is(err, ErrDial) {
		t.Errorf("call running on a stopped host: %v, want ErrConnection and not ErrDial", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler on a stopped host: %v", err)
	}
	if _, err := a.Call(ctx, "b", "echo", nil); !errors.Is(err, ErrDial) {
		t.Errorf("call to a stopped host: %v, want ErrDial", err)
	}
	if _, err := a.Call(ctx, "nobody", "echo", nil); !errors.Is(err, ErrDial) {
		t.Errorf("call to an unknown host: %v, want ErrDial", err)
	}
	tr.Stop("b") // stopping twice is harmless

	tr.Listen("b", blockUntilCancelled(started, ended))
	errc = callAsync(ctx, a, "b", "block", nil)
	recv(t, started)
	// A second Listen is a restart: the old incarnation's calls break.
	tr.Listen("b", echo)
	if err := recv(t, errc); !errors.Is(err, ErrConnection) || errors.Is(err, ErrDial) {
		t.Errorf("call across a restart: %v, want ErrConnection", err)
	}
	recv(t, ended)
	if out, err := a.Call(ctx, "b", "echo", []byte("back")); err != nil || string(out) != "back" {
		t.Errorf("call after restart = %q, %v", out, err)
	}
	if s := tr.Stats(); s.Refused != 2 {
		t.Errorf("stats %+v, want 2 refused", s)
	}
}

// TestMemTransportPartition: calls across a partition fail fast both ways,
// calls in flight across it break, other hosts are unaffected, and Heal
// restores everything.
func TestMemTransportPartition(t *testing.T) {
	checkGoroutines(t)
	tr := newMemTransport(t, 1, nil)
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	block := blockUntilCancelled(started, ended)
	for _, h := range []string{"a", "b", "c"} {
		tr.Listen(h, func(ctx context.Context, method string, body []byte) ([]byte, error) {
			if method == "block" {
				return block(ctx, method, body)
			}
			return echo(ctx, method, body)
		})
	}
	a, b := tr.Host("a"), tr.Host("b")
	ctx := ctxTimeout(t, waitLong)

	errc := callAsync(ctx, a, "b", "block", nil)
	recv(t, started)
	tr.Partition([]string{"a"}, []string{"b"})
	if err := recv(t, errc); !errors.Is(err, ErrConnection) || errors.Is(err, ErrDial) {
		t.Errorf("call in flight across the partition: %v, want ErrConnection and not ErrDial", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler across the partition: %v", err)
	}
	// ctx has a long deadline: failing with ErrDial at all means failing fast.
	if _, err := a.Call(ctx, "b", "echo", nil); !errors.Is(err, ErrDial) || !strings.Contains(err.Error(), "a cannot reach b") {
		t.Errorf("a to b across the partition: %v", err)
	}
	if _, err := b.Call(ctx, "a", "echo", nil); !errors.Is(err, ErrDial) {
		t.Errorf("b to a across the partition: %v", err)
	}
	for _, from := range []Transport{a, b} {
		if _, err := from.Call(ctx, "c", "echo", nil); err != nil {
			t.Errorf("call to c, outside the partition: %v", err)
		}
	}
	if _, err := a.Call(ctx, "a", "echo", nil); err != nil {
		t.Errorf("a host is never cut from itself: %v", err)
	}

	tr.Heal()
	if _, err := a.Call(ctx, "b", "echo", nil); err != nil {
		t.Errorf("a to b after Heal: %v", err)
	}
	if _, err := b.Call(ctx, "a", "echo", nil); err != nil {
		t.Errorf("b to a after Heal: %v", err)
	}
}

// TestMemTransportBlock: a one-way block loses requests in its direction
// and replies in its direction to requests that came the other way; both
// calls time out, but the second one's handler ran.
func TestMemTransportBlock(t *testing.T) {
	tr := newMemTransport(t, 1, nil)
	ranX, ranY := make(chan string, 1), make(chan string, 1)
	tr.Listen("x", signalling(ranX))
	tr.Listen("y", signalling(ranY))
	x, y := tr.Host("x"), tr.Host("y")
	tr.Block("x", "y")

	begin := time.Now()
	if _, err := x.Call(ctxTimeout(t, lostWait), "y", "echo", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("x to y through a block: %v, want DeadlineExceeded", err)
	}
	if took := time.Since(begin); took < lostWait {
		t.Errorf("lost request returned after %v, before its deadline", took)
	}
	noneOn(t, ranY, "handler on y ran for a blocked request")

	if _, err := y.Call(ctxTimeout(t, lostWait), "x", "echo", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("y to x with x's replies blocked: %v, want DeadlineExceeded", err)
	}
	if got := recv(t, ranX); got != "echo" {
		t.Errorf("handler on x ran %q", got)
	}
	if s := tr.Stats(); s.Dropped != 2 || s.Delivered != 1 {
		t.Errorf("stats %+v, want 2 dropped and 1 delivered", s)
	}

	tr.Unblock("x", "y")
	ctx := ctxTimeout(t, waitLong)
	if _, err := x.Call(ctx, "y", "echo", nil); err != nil {
		t.Errorf("x to y after Unblock: %v", err)
	}
	if _, err := y.Call(ctx, "x", "echo", nil); err != nil {
		t.Errorf("y to x after Unblock: %v", err)
	}
}

func TestMemTransportDropRate(t *testing.T) {
	tr := newMemTransport(t, 1, nil)
	ran := make(chan string, 1)
	tr.Listen("b", signalling(ran))
	a := tr.Host("a")

	tr.SetFaults(Faults{DropRate: 1})
	if _, err := a.Call(ctxTimeout(t, lostWait), "b", "echo", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call with every message dropped: %v", err)
	}
	noneOn(t, ran, "handler ran for a dropped request")
	if s := tr.Stats(); s != (MemStats{Sent: 1, Dropped: 1}) {
		t.Errorf("stats %+v", s)
	}

	tr.SetFaults(Faults{DropRate: 0})
	ctx := ctxTimeout(t, waitLong)
	for i := range 100 {
		if _, err := a.Call(ctx, "b", "echo", nil); err != nil {
			t.Fatalf("call %d with no drops: %v", i, err)
		}
		recv(t, ran)
	}
	if s := tr.Stats(); s != (MemStats{Sent: 201, Delivered: 200, Dropped: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// dropPattern makes calls one at a time with half the messages dropped
// and returns what became of each: '.' answered, 'q' request lost, 'r'
// reply lost after the handler ran. It ends each lost call as soon as the
// loss is counted rather than waiting out a deadline.
func dropPattern(t *testing.T, seed int64, calls int) string {
	tr := newMemTransport(t, seed, nil)
	ran := make(chan string, 1)
	tr.Listen("b", signalling(ran))
	tr.SetFaults(Faults{DropRate: 0.5})
	a := tr.Host("a")
	var pattern []byte
	for range calls {
		dropped := tr.Stats().Dropped
		ctx, cancel := context.WithCancel(context.Background())
		errc := callAsync(ctx, a, "b", "echo", nil)
		var err error
		answered := false
		waitUntil(t, "an answer or a loss", func() bool {
			select {
			case err = <-errc:
				answered = true
				return true
			default:
				return tr.Stats().Dropped > dropped
			}
		})
		cancel()
		switch {
		case answered && err != nil:
			t.Fatalf("call failed: %v", err)
		case answered:
			recv(t, ran)
			pattern = append(pattern, '.')
		default:
			if err := recv(t, errc); !errors.Is(err, context.Canceled) {
				t.Fatalf("lost call ended with %v", err)
			}
			select {
			case <-ran:
				pattern = append(pattern, 'r')
			default:
				pattern = append(pattern, 'q')
			}
		}
	}
	return string(pattern)
}

// TestMemTransportSeedDeterminism: the same seed and the same calls give
// the same drops.
func TestMemTransportSeedDeterminism(t *testing.T) {
	first := dropPattern(t, 7, 24)
	again := dropPattern(t, 7, 24)
	other := dropPattern(t, 8, 24)
	t.Logf("seed 7: %s, seed 8: %s", first, other)
	if first != again {
		t.Errorf("seed 7 gave %s, then %s", first, again)
	}
	if first == other {
		t.Errorf("seeds 7 and 8 both gave %s", first)
	}
	for _, outcome := range ".qr" {
		if !strings.ContainsRune(first, outcome) {
			t.Errorf("pattern %s lacks %q", first, outcome)
		}
	}
}

// TestMemTransportDelayReorders: delayed messages arrive only when the
// fake clock reaches them, and a later message with a shorter delay
// overtakes an earlier one.
func TestMemTransportDelayReorders(t *testing.T) {
	checkGoroutines(t)
	clk := clock.NewFake(time.Unix(0, 0))
	tr := newMemTransport(t, 1, clk)
	arrived := make(chan string, 3)
	tr.Listen("b", signalling(arrived))
	a := tr.Host("a")
	answers := make(chan string, 3)
	send := func(method string, delay time.Duration, pending int) {
		tr.SetFaults(Faults{MinDelay: delay, MaxDelay: delay})
		go func() {
			out, err := a.Call(ctxTimeout(t, waitLong), "b", method, []byte(method))
			if err != nil {
				out = []byte(err.Error())
			}
			answers <- string(out)
		}()
		waitPending(t, clk, pending) // its request's timer
	}
	const ms = time.Millisecond
	// Requests and replies each take the call's delay.
	send("A", 30*ms, 1)
	send("B", 20*ms, 2)
	send("C", 10*ms, 3)
	noneOn(t, arrived, "request arrived before the clock moved")

	clk.Advance(10 * ms) // C's request
	if got := recv(t, arrived); got != "C" {
		t.Fatalf("at 10ms %s arrived, want C", got)
	}
	waitPending(t, clk, 3) // A, B requests; C's reply
	noneOn(t, answers, "answer before its reply delay")

	clk.Advance(10 * ms) // B's request, C's reply
	if got := recv(t, arrived); got != "B" {
		t.Fatalf("at 20ms %s arrived, want B", got)
	}
	if got := recv(t, answers); got != "C" {
		t.Fatalf("at 20ms answer %s, want C", got)
	}
	waitPending(t, clk, 2) // A's request, B's reply

	clk.Advance(10 * ms) // A's request
	if got := recv(t, arrived); got != "A" {
		t.Fatalf("at 30ms %s arrived, want A", got)
	}
	waitPending(t, clk, 2) // B's reply, A's reply
	clk.Advance(10 * ms)
	if got := recv(t, answers); got != "B" {
		t.Fatalf("at 40ms answer %s, want B", got)
	}
	clk.Advance(20 * ms)
	if got := recv(t, answers); got != "A" {
		t.Fatalf("at 60ms answer %s, want A", got)
	}
	if s := tr.Stats(); s != (MemStats{Sent: 6, Delivered: 6, Delayed: 6}) {
		t.Errorf("stats %+v", s)
	}
}

// TestMemTransportRandomDelays: with delays drawn from a range, a burst of
// calls is served out of order, and every call is answered once the clock
// has moved past the longest delay.
func TestMemTransportRandomDelays(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	tr := newMemTransport(t, 3, clk)
	const n = 20
	arrived := make(chan string, n)
	tr.Listen("b", signalling(arrived))
	tr.SetFaults(Faults{MinDelay: time.Millisecond, MaxDelay: time.Second})
	a := tr.Host("a")
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := a.Call(ctxTimeout(t, waitLong), "b", fmt.Sprint(i), nil)
			errs <- err
		}()
		waitPending(t, clk, i+1)
	}
	var order []string
	for len(order) < n {
		clk.Advance(time.Millisecond)
		for done := false; !done; {
			select {
			case m := <-arrived:
				order = append(order, m)
			default:
				done = true
			}
		}
		runtime.Gosched()
	}
	// Every request has arrived; once every reply is on its way (each
	// due within a second), let them through.
	waitUntil(t, "every reply sent", func() bool { return tr.Stats().Sent == 2*n })
	clk.Advance(time.Second)
	for range n {
		if err := recv(t, errs); err != nil {
			t.Fatal(err)
		}
	}
	sorted := true
	for i := 1; i < n; i++ {
		var prev, cur int
		fmt.Sscan(order[i-1], &prev)
		fmt.Sscan(order[i], &cur)
		sorted = sorted && prev < cur
	}
	if sorted {
		t.Errorf("requests arrived in the order sent: %v", order)
	}
}

// TestMemTransportClose: Close ends calls lost, delayed and running with
// ErrClosed, cancels handlers and waits for them.
func TestMemTransportClose(t *testing.T) {
	checkGoroutines(t)
	clk := clock.NewFake(time.Unix(0, 0))
	tr := NewMemTransport(1, clk)
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	tr.Listen("b", blockUntilCancelled(started, ended))
	tr.Listen("c", echo)
	tr.Block("a", "c")
	a := tr.Host("a")

	running := callAsync(context.Background(), a, "b", "block", nil)
	recv(t, started)
	lost := callAsync(context.Background(), a, "c", "echo", nil)
	waitUntil(t, "the blocked request", func() bool { return tr.Stats().Dropped == 1 })
	tr.SetFaults(Faults{MinDelay: time.Hour, MaxDelay: time.Hour})
	delayed := callAsync(context.Background(), a, "b", "block", nil)
	waitPending(t, clk, 1)

	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for name, errc := range map[string]<-chan error{"running": running, "lost": lost, "delayed": delayed} {
		if err := recv(t, errc); !errors.Is(err, ErrClosed) {
			t.Errorf("%s call: %v, want ErrClosed", name, err)
		}
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler ctx ended with %v", err)
		}
	default:
		t.Error("Close returned before the handler did")
	}
	if clk.Pending() != 0 {
		t.Errorf("%d timers left armed", clk.Pending())
	}
	if _, err := a.Call(context.Background(), "c", "echo", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v", err)
	}
	tr.Close()
}

func TestFaultsValidate(t *testing.T) {
	for _, tc := range []struct {
		f  Faults
		ok bool
	}{
		{Faults{}, true},
		{Faults{DropRate: 1, MinDelay: 1, MaxDelay: 1}, true},
		{Faults{DropRate: -0.1}, false},
		{Faults{DropRate: 1.5}, false},
		{Faults{DropRate: math.NaN()}, false},
		{Faults{MinDelay: -1}, false},
		{Faults{MinDelay: 2, MaxDelay: 1}, false},
	} {
		if err := tc.f.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok %v", tc.f, err, tc.ok)
		}
	}
}

// TestMemTransportChaos runs calls between four hosts while faults come
// and go; every call must end with an answer or one of the documented
// errors. It is mostly food for the race detector.
func TestMemTransportChaos(t *testing.T) {
	checkGoroutines(t)
	tr := newMemTransport(t, 42, nil)
	hosts := []string{"n1", "n2", "n3", "n4"}
	for _, h := range hosts {
		tr.Listen(h, echo)
	}
	faults := Faults{DropRate: 0.1, MaxDelay: time.Millisecond}
	tr.SetFaults(faults)

	// The chaos goroutine makes one change per call answered, so faults
	// come and go at the pace of the calls.
	ticks := make(chan struct{}, 64)
	var callers sync.WaitGroup
	for i, from := range hosts {
		for g := range 3 {
			callers.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(g)))
				tp := tr.Host(from)
				for range 20 {
					to := hosts[rng.IntN(len(hosts))]
					body := []byte(fmt.Sprint(rng.Int()))
					ctx, cancel := context.WithTimeout(context.Background(), lostWait)
					out, err := tp.Call(ctx, to, "echo", body)
					cancel()
					switch {
					case err == nil && !bytes.Equal(out, body):
						t.Errorf("%s to %s: answer %q for %q", from, to, out, body)
					case err == nil, errors.Is(err, ErrConnection), errors.Is(err, context.DeadlineExceeded):
					default:
						t.Errorf("%s to %s: %v", from, to, err)
					}
					select {
					case ticks <- struct{}{}:
					default:
					}
				}
			})
		}
	}
	stop := make(chan struct{})
	chaos := make(chan struct{})
	go func() {
		defer close(chaos)
		rng := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-stop:
				return
			case <-ticks:
			}
			x, y := hosts[rng.IntN(len(hosts))], hosts[rng.IntN(len(hosts))]
			switch rng.IntN(8) {
			case 0:
				tr.Partition([]string{x}, []string{y})
			case 1:
				tr.Block(x, y)
			case 2:
				tr.Stop(x)
				tr.Listen(x, echo)
			case 3, 4:
				tr.Heal()
				tr.SetFaults(faults)
			default:
				_ = tr.Stats()
			}
		}
	}()
	callers.Wait()
	close(stop)
	<-chaos
	s := tr.Stats()
	if s.Sent == 0 || s.Delivered == 0 || s.Dropped == 0 || s.Refused == 0 {
		t.Errorf("stats %+v: the faults did not bite", s)
	}
	t.Logf("stats %+v", s)
}
