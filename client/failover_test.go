package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dialCounter counts the connections a Client opens, per address.
type dialCounter struct {
	mu    sync.Mutex
	dials map[string]int
}

func (d *dialCounter) httpClient() *http.Client {
	t := newTransport(3, nil)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.mu.Lock()
		d.dials[addr]++
		d.mu.Unlock()
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: t}
}

func (d *dialCounter) count(addr string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials[addr]
}

// fakeNow is a clock the test sets.
type fakeNow struct{ ns atomic.Int64 }

func (f *fakeNow) now() time.Time          { return time.Unix(0, f.ns.Load()) }
func (f *fakeNow) advance(d time.Duration) { f.ns.Add(int64(d)) }

// TestFailover: with one node stopped, every call still succeeds through
// the others, and the stopped node is skipped until DownFor has passed.
func TestFailover(t *testing.T) {
	cl := newTestCluster(t)
	dc := &dialCounter{dials: map[string]int{}}
	c := cl.client(t, func(cfg *Config) {
		cfg.HTTPClient = dc.httpClient()
		cfg.DownFor = time.Minute
	})
	clk := &fakeNow{}
	clk.ns.Store(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	c.now = clk.now
	ctx := context.Background()

	for i := range 6 {
		if _, err := c.Put(ctx, NewObject(Location{Bucket: "b", Key: fmt.Sprint("before", i)}, []byte("v"), "text/plain")); err != nil {
			t.Fatal(err)
		}
	}
	cl.stop("n3")
	dead := strings.TrimPrefix(cl.srvs["n3"].URL, "http://")
	deadIndex := 2

	// Reads first: one of the first three lands on n3, fails, is retried
	// elsewhere and marks n3 down.
	for i := range 6 {
		o, err := c.Get(ctx, Location{Bucket: "b", Key: fmt.Sprint("before", i)})
		if err != nil || string(o.Value()) != "v" {
			t.Fatalf("Get %d with n3 stopped: %+v, %v", i, o, err)
		}
	}
	if !c.nodes.isDown(deadIndex, c.now()) {
		t.Fatal("n3 was not marked down")
	}
	dials := dc.count(dead)
	if dials == 0 {
		t.Fatal("no call tried n3: the test proves nothing")
	}
	for i := range 20 {
		loc := Location{Bucket: "b", Key: fmt.Sprint("during", i)}
		if _, err := c.Put(ctx, NewObject(loc, []byte("w"), "text/plain")); err != nil {
			t.Fatalf("Put %d with n3 stopped: %v", i, err)
		}
		if _, err := c.Get(ctx, loc); err != nil {
			t.Fatalf("Get %d with n3 stopped: %v", i, err)
		}
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dc.count(dead); n != dials {
		t.Fatalf("%d more connections to the down node n3", n-dials)
	}

	// Once DownFor has passed n3 is tried again, fails, and the call
	// still succeeds elsewhere.
	clk.advance(time.Minute)
	for i := range 3 {
		if _, err := c.Get(ctx, Location{Bucket: "b", Key: fmt.Sprint("during", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if dc.count(dead) == dials {
		t.Fatal("n3 was not tried again after DownFor")
	}
}

// TestAllNodesDown: when every node is down the calls try them anyway,
// and fail with ErrUnavailable once none answers.
func TestAllNodesDown(t *testing.T) {
	cl := newTestCluster(t)
	c := cl.client(t, func(cfg *Config) { cfg.DownFor = time.Hour })
	for _, id := range cl.ids {
		cl.stop(id)
	}
	ctx := context.Background()
	err := c.Ping(ctx)
	var e *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || e.Status != 0 || e.Node == "" {
		t.Fatalf("Ping of a stopped cluster: %v, want ErrUnavailable with no status", err)
	}
	for i := range cl.ids {
		if !c.nodes.isDown(i, c.now()) {
			t.Errorf("node %d not marked down", i)
		}
	}
	// All down: still tried (and still failing), not refused outright.
	if err := c.Ping(ctx); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("second Ping: %v", err)
	}
}

// A node that sheds load (503 with Retry-After: 1) is skipped for that
// second, not for DownFor, and the call goes to another node at once.
func TestShedNodeIsSkippedForRetryAfter(t *testing.T) {
	shed := &httptestServer{status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "1"}, body: "overloaded: busy"}
	ok := &httptestServer{status: http.StatusOK, body: "OK"}
	a, b := shed.start(t), ok.start(t)
	cfg := DefaultLocalConfig()
	cfg.Nodes, cfg.DownFor = []string{a, b}, time.Minute
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clk := &fakeNow{}
	clk.ns.Store(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	c.now = clk.now
	for range 2 { // whichever node round-robin starts with
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping with one node shedding: %v", err)
		}
	}
	if !c.nodes.isDown(0, clk.now()) {
		t.Fatal("the shedding node is not skipped")
	}
	clk.advance(1100 * time.Millisecond)
	if c.nodes.isDown(0, clk.now()) {
		t.Fatal("the shedding node is still skipped after its Retry-After")
	}
}

// httptestServer answers every request with one status, headers and body.
type httptestServer struct {
	status int
	header map[string]string
	body   string
}

func (s *httptestServer) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(s.body))
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
