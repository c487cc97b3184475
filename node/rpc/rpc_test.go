package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// networks runs a test over TCP loopback and over a MemNetwork. listen is
// the address to listen on; dial is the client's network.
type testNet struct {
	name   string
	server Network
	client Network
	listen string
}

func testNets() []testNet {
	m := NewMemNetwork()
	return []testNet{
		{"tcp", TCP{}, TCP{}, "127.0.0.1:0"},
		{"mem", m.Host("srv"), m.Host("cli"), "srv:8099"},
	}
}

func TestCallRoundTrip(t *testing.T) {
	for _, tn := range testNets() {
		t.Run(tn.name, func(t *testing.T) {
			checkGoroutines(t)
			_, addr := startServer(t, testConfig(), tn.server, tn.listen, echo)
			c := newTestClient(t, testConfig(), tn.client)
			ctx := ctxTimeout(t, waitLong)

			out, err := c.Call(ctx, addr, "echo", []byte("hello"))
			if err != nil || string(out) != "hello" {
				t.Fatalf("echo = %q, %v", out, err)
			}
			if out, err := c.Call(ctx, addr, "echo", nil); err != nil || len(out) != 0 {
				t.Fatalf("empty echo = %q, %v", out, err)
			}

			_, err = c.Call(ctx, addr, "fail", nil)
			var re *RemoteError
			if !errors.As(err, &re) || re.Msg != string(errTest) {
				t.Fatalf("fail: %v, want a RemoteError %q", err, errTest)
			}
			if errors.Is(err, ErrUnknownMethod) || errors.Is(err, ErrConnection) {
				t.Errorf("handler error %v matches the wrong sentinel", err)
			}

			_, err = c.Call(ctx, addr, "nope", nil)
			if !errors.As(err, &re) || !errors.Is(err, ErrUnknownMethod) {
				t.Fatalf("unknown method: %v", err)
			}
		})
	}
}

// TestCallConcurrentOutOfOrder keeps 1000 calls in flight on two
// connections and answers the last ones first, each only after the one
// before it has returned to its caller.
func TestCallConcurrentOutOfOrder(t *testing.T) {
	for _, tn := range testNets() {
		t.Run(tn.name, func(t *testing.T) {
			checkGoroutines(t)
			const n = 1000
			cfg := testConfig()
			cfg.MaxInFlight = n
			arrived := make(chan int, n)
			var release [n]chan struct{}
			for i := range release {
				release[i] = make(chan struct{})
			}
			srv, addr := startServer(t, cfg, tn.server, tn.listen, func(ctx context.Context, method string, body []byte) ([]byte, error) {
				i, err := strconv.Atoi(string(body))
				if err != nil {
					return nil, err
				}
				arrived <- i
				select {
				case <-release[i]:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return []byte("re:" + string(body)), nil
			})
			c := newTestClient(t, cfg, tn.client)
			ctx := ctxTimeout(t, 6*waitLong)

			var returned [n]chan error
			for i := range n {
				returned[i] = make(chan error, 1)
				go func() {
					out, err := c.Call(ctx, addr, "wait", []byte(strconv.Itoa(i)))
					if err == nil && string(out) != fmt.Sprintf("re:%d", i) {
						err = fmt.Errorf("call %d got %q", i, out)
					}
					returned[i] <- err
				}()
			}
			for range n {
				recvWithin(t, arrived, 6*waitLong)
			}
			srv.mu.Lock()
			conns := len(srv.conns)
			srv.mu.Unlock()
			if conns != cfg.ConnsPerPeer {
				t.Errorf("%d calls used %d connections, want %d", n, conns, cfg.ConnsPerPeer)
			}
			// The last 50 callers, one at a time, each answer arriving
			// while every earlier call is still in flight; then the rest.
			for i := n - 1; i >= n-50; i-- {
				close(release[i])
				if err := recv(t, returned[i]); err != nil {
					t.Fatal(err)
				}
			}
			for i := range n - 50 {
				close(release[i])
			}
			for i := range n - 50 {
				if err := recv(t, returned[i]); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// blockUntilCancelled is a handler that waits for its context and reports
// why it ended.
func blockUntilCancelled(started chan<- struct{}, ended chan<- error) Handler {
	return func(ctx context.Context, method string, body []byte) ([]byte, error) {
		started <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

func TestCallDeadline(t *testing.T) {
	for _, tn := range testNets() {
		t.Run(tn.name, func(t *testing.T) {
			checkGoroutines(t)
			started, ended := make(chan struct{}, 1), make(chan error, 1)
			block := blockUntilCancelled(started, ended)
			_, addr := startServer(t, testConfig(), tn.server, tn.listen, func(ctx context.Context, method string, body []byte) ([]byte, error) {
				if method == "block" {
					return block(ctx, method, body)
				}
				return echo(ctx, method, body)
			})
			cfg := testConfig()
			cfg.ConnsPerPeer = 1
			c := newTestClient(t, cfg, tn.client)
			// Connect first, so that the deadline is spent waiting on the
			// handler rather than on a loaded machine's dial.
			if _, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", nil); err != nil {
				t.Fatal(err)
			}

			const timeout = 300 * time.Millisecond
			begin := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := c.Call(ctx, addr, "block", nil)
			took := time.Since(begin)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Call: %v, want DeadlineExceeded", err)
			}
			// The upper bound only has to tell "returned at the deadline"
			// from "waited for the handler", which never answers.
			if took < timeout || took > timeout+waitLong/2 {
				t.Errorf("Call returned after %v; deadline was %v", took, timeout)
			}
			recv(t, started)
			if err := recv(t, ended); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("handler ctx ended with %v, want DeadlineExceeded", err)
			}
		})
	}
}

// TestCallCancel: a caller that gives up without a deadline cancels the
// remote handler too.
func TestCallCancel(t *testing.T) {
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	m := NewMemNetwork()
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", blockUntilCancelled(started, ended))
	c := newTestClient(t, testConfig(), m.Host("cli"))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, addr, "block", nil)
		errc <- err
	}()
	recv(t, started)
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Errorf("Call: %v, want Canceled", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler ctx ended with %v, want Canceled", err)
	}
}

func TestCallPeerRestart(t *testing.T) {
	for _, tn := range testNets() {
		t.Run(tn.name, func(t *testing.T) {
			checkGoroutines(t)
			ln, err := tn.server.Listen(tn.listen)
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			first := NewServer(testConfig(), echo)
			serve(t, first, ln)
			c := newTestClient(t, testConfig(), tn.client)
			ctx := ctxTimeout(t, waitLong)
			for i := range 4 { // use both connections
				if _, err := c.Call(ctx, addr, "echo", []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}

			first.Close()
			waitBroken(t, c, addr)
			if _, err := c.Call(ctx, addr, "echo", nil); !errors.Is(err, ErrConnection) || !errors.Is(err, ErrDial) {
				t.Fatalf("call to a stopped server: %v, want ErrDial", err)
			}

			startServer(t, testConfig(), tn.server, addr, echo)
			for i := range 4 {
				if out, err := c.Call(ctx, addr, "echo", []byte{byte(i)}); err != nil || !bytes.Equal(out, []byte{byte(i)}) {
					t.Fatalf("call after restart = %v, %v", out, err)
				}
			}
		})
	}
}

// TestServerCloseFailsCallsInFlight: Close cancels running handlers and the
// callers see ErrConnection rather than hanging.
func TestServerCloseFailsCallsInFlight(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	srv, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", blockUntilCancelled(started, ended))
	c := newTestClient(t, testConfig(), m.Host("cli"))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), addr, "block", nil)
		errc <- err
	}()
	recv(t, started)
	srv.Close()
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler ctx: %v", err)
	}
	if err := recv(t, errc); !errors.Is(err, ErrConnection) {
		t.Errorf("Call: %v, want ErrConnection", err)
	}
}

func TestClientClose(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", blockUntilCancelled(started, ended))
	c := NewClient(testConfig(), m.Host("cli"))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), addr, "block", nil)
		errc <- err
	}()
	recv(t, started)
	c.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Errorf("call in flight: %v, want ErrClosed", err)
	}
	if _, err := c.Call(context.Background(), addr, "echo", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	recv(t, ended) // the server noticed the connection go
}

func TestCallTooLarge(t *testing.T) {
	cfg := testConfig()
	cfg.MaxFrameSize = 4096
	m := NewMemNetwork()
	_, addr := startServer(t, cfg, m.Host("srv"), "srv:1", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		return make([]byte, 8192), nil
	})
	c := newTestClient(t, cfg, m.Host("cli"))
	ctx := ctxTimeout(t, waitLong)
	if _, err := c.Call(ctx, addr, "big", make([]byte, 8192)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized request: %v", err)
	}
	_, err := c.Call(ctx, addr, "big", nil)
	var re *RemoteError
	if !errors.As(err, &re) || !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized response: %v", err)
	}
	// The connection survived both.
	if _, err := c.Call(ctx, addr, "big", nil); !errors.As(err, &re) {
		t.Errorf("next call: %v", err)
	}
}

func TestHandlerPanic(t *testing.T) {
	cfg, logs := loggedConfig()
	m := NewMemNetwork()
	_, addr := startServer(t, cfg, m.Host("srv"), "srv:1", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == "panic" {
			panic("boom")
		}
		return echo(ctx, method, body)
	})
	c := newTestClient(t, testConfig(), m.Host("cli"))
	ctx := ctxTimeout(t, waitLong)
	var re *RemoteError
	if _, err := c.Call(ctx, addr, "panic", nil); !errors.As(err, &re) {
		t.Fatalf("panicking handler: %v", err)
	}
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Fatalf("after panic: %v", err)
	}
	if !bytes.Contains([]byte(logs.String()), []byte("boom")) {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func TestIdleConnectionsClosed(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	srv, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", echo)
	cfg := testConfig()
	cfg.IdleTimeout = 20 * time.Millisecond
	cfg.ConnsPerPeer = 1
	c := newTestClient(t, cfg, m.Host("cli"))
	ctx := ctxTimeout(t, waitLong)
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Fatal(err)
	}
	waitBroken(t, c, addr)
	srv.mu.Lock()
	conns := len(srv.conns)
	srv.mu.Unlock()
	if conns > 1 {
		t.Errorf("server holds %d connections", conns)
	}
	// A retired connection is replaced transparently.
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Fatalf("call after idle close: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"frame size":    func(c *Config) { c.MaxFrameSize = 0 },
		"dial timeout":  func(c *Config) { c.DialTimeout = 0 },
		"write timeout": func(c *Config) { c.WriteTimeout = -1 },
		"conns":         func(c *Config) { c.ConnsPerPeer = 0 },
		"idle":          func(c *Config) { c.IdleTimeout = -1 },
		"in flight":     func(c *Config) { c.MaxInFlight = 0 },
		"logger":        func(c *Config) { c.Logger = nil },
	} {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
}

// TestManyClientsRace hammers one server from several clients with mixed
// outcomes, for the race detector.
func TestManyClientsRace(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", echo)
	var wg sync.WaitGroup
	for i := range 4 {
		c := newTestClient(t, testConfig(), m.Host(fmt.Sprintf("cli%d", i)))
		for j := range 50 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), waitLong)
				defer cancel()
				method := []string{"echo", "fail", "nope"}[j%3]
				if j%7 == 0 {
					cancel() // some give up at once
				}
				c.Call(ctx, addr, method, []byte("x"))
			})
		}
	}
	wg.Wait()
}
