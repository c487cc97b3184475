package gossip

import (
	"fmt"
	"log/slog"

	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/syncbuf"
)

// waitTimeout bounds every wait: generous, since it only matters when a
// test is failing.
const waitTimeout = 15 * time.Second

// recorder is a Delegate that keeps every event for the test to wait on.
type recorder struct {
	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced on every event
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Notify(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// mark is the number of events so far, for waits that look only at what
// comes after it.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// wait blocks until done, given the events since from, returns true.
func (r *recorder) wait(t *testing.T, from int, what string, done func([]Event) bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		events := r.events[from:]
		ok := done(events)
		changed := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s; events since mark: %v", waitTimeout, what, events)
		}
	}
}

// waitSeq waits until the events about node since from are at least
// want's kinds and checks that they begin with exactly those, in order.
func (r *recorder) waitSeq(t *testing.T, from int, node string, want ...State) []Event {
	t.Helper()
	var got []Event
	r.wait(t, from, fmt.Sprintf("%s: %v", node, want), func(events []Event) bool {
		got = about(events, node)
		return len(got) >= len(want)
	})
	for i, k := range want {
		if got[i].Kind != k {
			t.Fatalf("events about %s: got %v, want kinds %v", node, got, want)
		}
	}
	return got[:len(want)]
}

// waitAlive waits until every node in nodes has had an Alive event.
func (r *recorder) waitAlive(t *testing.T, from int, nodes ...string) {
	t.Helper()
	r.wait(t, from, fmt.Sprintf("alive %v", nodes), func(events []Event) bool {
		for _, n := range nodes {
			if !hasEvent(events, func(e Event) bool { return e.Node == n && e.Kind == Alive }) {
				return false
			}
		}
		return true
	})
}

func about(events []Event, node string) []Event {
	var out []Event
	for _, e := range events {
		if e.Node == node {
			out = append(out, e)
		}
	}
	return out
}

func hasEvent(events []Event, match func(Event) bool) bool {
	for _, e := range events {
		if match(e) {
			return true
		}
	}
	return false
}

func testMeta(name string) Meta {
	return Meta{
		HTTPAddr:  name + ".test:8098",
		RPCAddr:   name + ".test:8099",
		RaftAddr:  name + ".test:8300",
		RingEpoch: 1,
	}
}

// testConfig is DefaultLocalConfig for node name, logging into logs.
//
// Periodic push/pull is off (an hour): it would tell this node that a
// member is suspect without this node's own probe failing, which the
// package cannot observe (see doc.go), and then the crash test could see
// Alive → Dead without Suspect in between.
func testConfig(name string, logs *syncbuf.Buffer) Config {
	c := DefaultLocalConfig()
	c.NodeID = name
	c.Meta = testMeta(name)
	c.PushPullInterval = time.Hour
	c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	return c
}

// dumpLogsOnFailure prints the tail of logs if the test fails.
func dumpLogsOnFailure(t *testing.T, logs *syncbuf.Buffer) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		lines := strings.Split(logs.String(), "\n")
		if len(lines) > 300 {
			lines = lines[len(lines)-300:]
		}
		t.Logf("last log lines:\n%s", strings.Join(lines, "\n"))
	})
}

// cluster is a set of nodes on one MemNetwork.
type cluster struct {
	t     *testing.T
	logs  *syncbuf.Buffer
	net   *MemNetwork
	nodes map[string]*testNode
	// configure, if set, adjusts each node's config before it starts.
	configure func(*Config)
}

type testNode struct {
	g   *Gossip
	rec *recorder
}

func newCluster(t *testing.T) *cluster {
	c := &cluster{t: t, logs: &syncbuf.Buffer{}, net: &MemNetwork{}, nodes: make(map[string]*testNode)}
	dumpLogsOnFailure(t, c.logs)
	t.Cleanup(c.close)
	return c
}

// start starts node name, or restarts it (at its old address) if it ran
// before and has been closed.
func (c *cluster) start(name string) *testNode {
	c.t.Helper()
	cfg := testConfig(name, c.logs)
	cfg.Transport = c.net.NewTransport(name)
	if c.configure != nil {
		c.configure(&cfg)
	}
	n := &testNode{rec: newRecorder()}
	g, err := New(cfg, n.rec)
	if err != nil {
		c.t.Fatalf("New(%s): %v", name, err)
	}
	n.g = g
	c.nodes[name] = n
	return n
}

// startJoined starts the named nodes, joins each to the first, and waits
// until every one has seen every one alive.
func (c *cluster) startJoined(names ...string) {
	c.t.Helper()
	for _, n := range names {
		c.start(n)
	}
	seed := c.nodes[names[0]].g.Addr()
	for _, n := range names[1:] {
		if _, err := c.nodes[n].g.Join([]string{seed}); err != nil {
			c.t.Fatalf("%s: Join(%s): %v", n, seed, err)
		}
	}
	for _, n := range names {
		c.nodes[n].rec.waitAlive(c.t, 0, names...)
	}
}

// crash stops node name without leaving.
func (c *cluster) crash(name string) {
	c.t.Helper()
	if err := c.nodes[name].g.Close(); err != nil {
		c.t.Fatalf("Close(%s): %v", name, err)
	}
}

func (c *cluster) close() {
	for _, n := range c.nodes {
		_ = n.g.Close()
	}
}
