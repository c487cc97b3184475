package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerErrors: what a real node refuses comes back as the right
// sentinel, with the status and the server's own message.
func TestServerErrors(t *testing.T) {
	cl := newTestCluster(t)
	c := cl.client(t)
	ctx := context.Background()
	loc := Location{Bucket: "b", Key: "k"}

	_, err := c.Get(ctx, loc, R(Q(5)))
	var e *Error
	if !errors.Is(err, ErrBadRequest) || !errors.As(err, &e) {
		t.Fatalf("Get with r=5: %v, want ErrBadRequest", err)
	}
	if e.Status != 400 || !strings.Contains(e.Message, "n_val") || e.Node == "" ||
		!strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), e.Node) {
		t.Fatalf("r=5: %+v / %q: want status 400, the node and the server's message about n_val", e, err)
	}
	if _, err := c.Put(ctx, NewObject(loc, []byte("v"), "text/plain"), W("lots")); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("Put with w=lots: %v", err)
	}

	for _, call := range []struct {
		name string
		do   func() error
	}{
		{"Get", func() error { _, err := c.Get(ctx, Location{Type: "nope", Bucket: "b", Key: "k"}); return err }},
		{"TypeProps", func() error { _, err := c.TypeProps(ctx, "nope"); return err }},
		{"BucketProps", func() error { _, err := c.BucketProps(ctx, "nope", "b"); return err }},
	} {
		err := call.do()
		if !errors.Is(err, ErrUnknownBucketType) || !errors.Is(err, ErrBadRequest) || errors.Is(err, ErrNotFound) ||
			!errors.As(err, &e) || e.Status != 404 {
			t.Errorf("%s of an unknown type: %v; want ErrUnknownBucketType (a 404 that is a bad request, not a missing key)", call.name, err)
		}
	}

	_, err = c.Get(ctx, Location{Bucket: "b", Key: "absent"})
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("Get of an absent key: %v", err)
	}

	// What the client refuses to send never reaches a node.
	for name, err := range map[string]error{
		"empty key":    func() error { _, err := c.Get(ctx, Location{Bucket: "b"}); return err }(),
		"empty bucket": c.Delete(ctx, Location{Key: "k"}, ""),
		"bad meta name": func() error {
			_, err := c.Put(ctx, &Object{Location: loc, Siblings: []Sibling{{Meta: map[string]string{"a b": "c"}}}})
			return err
		}(),
		"meta newline": func() error {
			_, err := c.Put(ctx, &Object{Location: loc, Siblings: []Sibling{{Meta: map[string]string{"a": "b\r\nX-Evil: 1"}}}})
			return err
		}(),
		"bad type": func() error {
			_, err := c.Put(ctx, &Object{Location: loc, Siblings: []Sibling{{ContentType: "nonsense"}}})
			return err
		}(),
		"no siblings":        func() error { _, err := c.Put(ctx, &Object{Location: loc}); return err }(),
		"nil object":         func() error { _, err := c.Put(ctx, nil); return err }(),
		"empty bucket props": func() error { _, err := c.BucketProps(ctx, "", ""); return err }(),
	} {
		var e *Error
		if !errors.Is(err, ErrBadRequest) || errors.As(err, &e) {
			t.Errorf("%s: %v; want a local ErrBadRequest", name, err)
		}
	}
}

// fakeNode is a scripted HTTP node: answer decides each reply.
type fakeNode struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newFakeNode(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *fakeNode {
	t.Helper()
	f := &fakeNode{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r)
		f.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeNode) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeNode) last() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func text(status int, msg string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, msg+"\n")
	}
}

func fakeClient(t *testing.T, nodes []string, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Nodes = nodes
	cfg.RetryBackoff, cfg.MaxBackoff = time.Millisecond, time.Millisecond
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestStatusMapping: each status (and, where it matters, message) maps to
// its sentinel; only a 503 that is not a quorum error marks a node down;
// 5xx are retried, 4xx are not.
func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status   int
		msg      string
		want     error
		down     bool
		attempts int // of a Get with Retries 2
	}{
		{400, "r query parameter must be ...", ErrBadRequest, false, 1},
		{413, "request body larger than 10 bytes", ErrBadRequest, false, 1},
		{415, "bucket properties must be sent as Content-Type: application/json", ErrBadRequest, false, 1},
		{405, "method not allowed", ErrBadRequest, false, 1},
		{404, "not found", ErrNotFound, false, 1},
		{404, `node: unknown bucket type: "x"`, ErrUnknownBucketType, false, 1},
		{409, "conflict", ErrConflict, false, 1},
		{412, "node: conflict: the key was changed since you read it", ErrConflict, false, 1},
		{503, "node: quorum not met: r=2 pr=0 needed, 1 replied", ErrQuorum, false, 3},
		{503, "timeout: node: quorum not met: w=2 needed", ErrQuorum, false, 3},
		{503, "node: closed", ErrUnavailable, true, 3},
		{503, "test: no leader: node: unavailable", ErrUnavailable, true, 3},
		{500, "internal error: the handler panicked (logged)", ErrUnavailable, false, 3},
		{502, "", ErrUnavailable, false, 3},
	} {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.msg), func(t *testing.T) {
			f := newFakeNode(t, text(tc.status, tc.msg))
			c := fakeClient(t, []string{f.URL})
			_, err := c.Get(context.Background(), Location{Bucket: "b", Key: "k"})
			var e *Error
			if !errors.Is(err, tc.want) || !errors.As(err, &e) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if e.Status != tc.status || e.Message != tc.msg || e.Node != f.URL {
				t.Fatalf("Error %+v", e)
			}
			if got := c.nodes.isDown(0, c.now()); got != tc.down {
				t.Errorf("node down: %v, want %v", got, tc.down)
			}
			if f.count() != tc.attempts {
				t.Errorf("%d attempts, want %d", f.count(), tc.attempts)
			}
		})
	}
}

// TestRetries: a read moves on to the next node after a 503; a put that
// reached a node is not sent again; a put whose connection could not be
// opened is.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	closing := newFakeNode(t, text(503, "node: closed"))
	good := newFakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set(hdrVclock, "ctx")
		_, _ = io.WriteString(w, "value")
	})
	c := fakeClient(t, []string{closing.URL, good.URL})
	o, err := c.Get(ctx, Location{Bucket: "b", Key: "k"})
	if err != nil || string(o.Value()) != "value" || o.Context != "ctx" {
		t.Fatalf("Get: %+v, %v", o, err)
	}
	if closing.count() != 1 || good.count() != 1 || !c.nodes.isDown(0, c.now()) {
		t.Fatalf("requests: %d to the closing node, %d to the good one", closing.count(), good.count())
	}

	// A put that reached a node is never resent, even with retries left.
	c = fakeClient(t, []string{closing.URL, good.URL})
	before := closing.count()
	if _, err := c.Put(ctx, NewObject(Location{Bucket: "b", Key: "k"}, []byte("v"), "text/plain")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Put to a 503: %v", err)
	}
	if closing.count() != before+1 || good.count() != 1 {
		t.Fatalf("the put was sent %d times", closing.count()-before+good.count()-1)
	}

	// A put whose connection is refused never reached a node: retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	_ = ln.Close()
	c = fakeClient(t, []string{refused, good.URL})
	if _, err := c.Put(ctx, NewObject(Location{Bucket: "b", Key: "k"}, []byte("v"), "text/plain")); err != nil {
		t.Fatalf("Put with the first node refusing connections: %v", err)
	}
	if good.count() != 2 || !c.nodes.isDown(0, c.now()) {
		t.Fatalf("the put did not move on to the good node (%d requests)", good.count())
	}

	// Retries < 0: one attempt.
	c = fakeClient(t, []string{closing.URL, good.URL}, func(cfg *Config) { cfg.Retries = -1 })
	before = closing.count()
	if _, err := c.Get(ctx, Location{Bucket: "b", Key: "k"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get without retries: %v", err)
	}
	if closing.count() != before+1 {
		t.Fatal("retried although Retries < 0")
	}
}

// TestTimeout: a node that does not answer costs the call its Timeout,
// which the server is told of too; the error is the deadline's.
func TestTimeout(t *testing.T) {
	stuck := newFakeNode(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := fakeClient(t, []string{stuck.URL})
	start := time.Now()
	_, err := c.Get(context.Background(), Location{Bucket: "b", Key: "k"}, Timeout(50*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get of a stuck node: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the call took %v", d)
	}
	if ms := stuck.last().URL.Query().Get("timeout"); ms == "" || ms == "0" {
		t.Fatalf("timeout query parameter %q", ms)
	}
	if c.nodes.isDown(0, c.now()) {
		t.Fatal("a node the caller gave up on is not down")
	}
	// The caller's own deadline, earlier than Timeout, wins.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping: %v", err)
	}
}

// TestBrokenListing: a stream that breaks before any key is retried; one
// that breaks after keys were passed on is an error, not a short list.
func TestBrokenListing(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	f := newFakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		if n == 1 {
			_, _ = io.WriteString(w, `{"keys":[`)
		} else {
			_, _ = io.WriteString(w, `{"keys":["a","b"]}{"keys":["c"`)
		}
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	c := fakeClient(t, []string{f.URL})
	var got []string
	err := c.ListKeys(context.Background(), "", "b", func(k string) error {
		got = append(got, k)
		return nil
	})
	var e *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || !strings.Contains(e.Message, "after 2 keys") {
		t.Fatalf("broken listing: %v", err)
	}
	if f.count() != 2 || strings.Join(got, ",") != "a,b" {
		t.Fatalf("%d requests, keys %v: want a retry of the first break only", f.count(), got)
	}
}

// TestClosed: a closed Client refuses calls.
func TestClosed(t *testing.T) {
	f := newFakeNode(t, text(200, "OK"))
	c := fakeClient(t, []string{f.URL})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}
}
