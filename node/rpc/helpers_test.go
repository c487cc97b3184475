package rpc

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/syncbuf"
)

// waitLong bounds every wait in these tests; reaching it means a bug.
const waitLong = 10 * time.Second

// testConfig is DefaultLocalConfig without logs and with a dial timeout
// that a heavily loaded test machine will not hit.
func testConfig() Config {
	cfg := DefaultLocalConfig()
	cfg.DialTimeout = waitLong / 2
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// loggedConfig is testConfig with a Warn-level log the test can read.
func loggedConfig() (Config, *syncbuf.Buffer) {
	var buf syncbuf.Buffer
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return cfg, &buf
}

// echo answers "echo" with the body and fails "fail"; anything else is an
// unknown method.
func echo(ctx context.Context, method string, body []byte) ([]byte, error) {
	switch method {
	case "echo":
		return body, nil
	case "fail":
		return nil, errTest
	}
	return nil, ErrUnknownMethod
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("disk on fire")

// serve starts srv on ln and arranges for both to be closed after the test.
func serve(t testing.TB, srv *Server, ln net.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitLong):
			t.Errorf("Serve did not return after Close")
		}
	})
}

// startServer listens on addr through nw and serves h; it returns the
// server and the address it listens on.
func startServer(t testing.TB, cfg Config, nw Network, addr string, h Handler) (*Server, string) {
	t.Helper()
	ln, err := nw.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, h)
	serve(t, srv, ln)
	return srv, ln.Addr().String()
}

func newTestClient(t testing.TB, cfg Config, nw Network) *Client {
	c := NewClient(cfg, nw)
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// checkGoroutines fails the test if, once its cleanups have run, more
// goroutines are left than when it started. Close waits for every
// goroutine it started, but a goroutine that has signalled its WaitGroup
// still needs a moment to exit, hence the bounded wait. Tests that use it
// must not run in parallel.
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	// Registered first, so it runs after the test's other cleanups.
	t.Cleanup(func() {
		deadline := time.Now().Add(waitLong)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d at start, %d now\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			runtime.Gosched()
		}
	})
}

// waitBroken waits until every connection c holds to addr has noticed that
// it is broken, so a test can rely on the next call dialling afresh.
func waitBroken(t testing.TB, c *Client, addr string) {
	t.Helper()
	c.mu.Lock()
	p := c.peers[addr]
	c.mu.Unlock()
	if p == nil {
		return
	}
	for i := range p.slots {
		s := &p.slots[i]
		s.mu.Lock()
		cc := s.conn
		s.mu.Unlock()
		if cc == nil {
			continue
		}
		select {
		case <-cc.done:
		case <-time.After(waitLong):
			t.Fatalf("connection to %s still up", addr)
		}
	}
}

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	return recvWithin(t, ch, waitLong)
}

func recvWithin[T any](t testing.TB, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}
