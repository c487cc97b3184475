package group

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/hashicorp/raft"
)

// testCluster is a group of in-process members on an rpc.MemNetwork, so
// tests can partition them.
type testCluster struct {
	t     *testing.T
	net   *rpc.MemNetwork
	nodes []*testNode
}

type testNode struct {
	id     string
	cfg    Config
	g      *Group
	stores *Stores
	client *rpc.Client
	srv    *rpc.Server
	done   chan struct{}
}

func testLogger() *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func nodeID(i int) string { return fmt.Sprintf("n%d", i+1) }

// newTestCluster starts size members, the first bootstrapping, the
// others joining it, and waits until the group has min(voters, size)
// voters, every member is in the configuration and the ring exists.
func newTestCluster(t *testing.T, size, voters int, tune ...func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, net: rpc.NewMemNetwork()}
	for i := range size {
		cfg := DefaultLocalConfig(nodeID(i))
		cfg.Voters = voters
		cfg.RaftAddr = nodeID(i) + ":8300"
		cfg.RPCAddr = nodeID(i) + ":8099"
		cfg.HTTPAddr = nodeID(i) + ":8098"
		cfg.Logger = testLogger().With("node", nodeID(i))
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = []string{nodeID(0) + ":8099"}
		}
		for _, f := range tune {
			f(&cfg)
		}
		c.start(cfg, InmemStores())
	}
	t.Cleanup(c.stop)
	c.waitFor("all members voters or non-voters, ring initialised", 20*time.Second, func() bool {
		l := c.leader()
		if l == nil || l.g.FSM().Ring() == nil {
			return false
		}
		st, err := l.g.RaftStatus(context.Background())
		return err == nil && len(st.Servers) == size && st.Voters == min(voters, size) && len(l.g.FSM().Members()) == size
	})
	return c
}

// start opens one member on the network.
func (c *testCluster) start(cfg Config, stores *Stores) *testNode {
	c.t.Helper()
	return c.startOn(cfg, stores, c.net.Host(cfg.NodeID))
}

// startOn opens one member on host, a network of c.net's or one wrapping
// it.
func (c *testCluster) startOn(cfg Config, stores *Stores, host rpc.Network) *testNode {
	c.t.Helper()
	rc := rpc.DefaultConfig()
	rc.Logger = cfg.Logger
	n := &testNode{id: cfg.NodeID, cfg: cfg, stores: stores, client: rpc.NewClient(rc, host), done: make(chan struct{})}
	g, err := Open(cfg, stores, host, n.client)
	if err != nil {
		c.t.Fatalf("open %s: %v", cfg.NodeID, err)
	}
	n.g = g
	ln, err := host.Listen(cfg.RPCAddr)
	if err != nil {
		c.t.Fatalf("listen %s: %v", cfg.RPCAddr, err)
	}
	n.srv = rpc.NewServer(rc, g.Handle)
	go func() {
		defer close(n.done)
		_ = n.srv.Serve(ln)
	}()
	for i, old := range c.nodes {
		if old.id == cfg.NodeID {
			c.nodes[i] = n
			return n
		}
	}
	c.nodes = append(c.nodes, n)
	return n
}

// kill stops a member, keeping its stores for a restart.
func (c *testCluster) kill(n *testNode) {
	_ = n.srv.Close()
	<-n.done
	if err := n.g.Close(); err != nil {
		c.t.Logf("close %s: %v", n.id, err)
	}
	_ = n.client.Close()
	n.g = nil
}

func (c *testCluster) restart(n *testNode) *testNode {
	cfg := n.cfg
	cfg.Bootstrap, cfg.Join = false, nil
	return c.start(cfg, n.stores)
}

func (c *testCluster) stop() {
	for _, n := range c.nodes {
		if n.g != nil {
			c.kill(n)
		}
	}
}

func (c *testCluster) node(id string) *testNode {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	c.t.Fatalf("no node %s", id)
	return nil
}

// leader returns the live member that leads, if exactly one claims to
// among those that can reach a majority; nil otherwise.
func (c *testCluster) leader() *testNode {
	for _, n := range c.nodes {
		if n.g != nil && n.g.Raft().State() == raft.Leader {
			return n
		}
	}
	return nil
}

// leaderAmong returns the leader among ids, nil if none leads.
func (c *testCluster) leaderAmong(ids []string) *testNode {
	for _, id := range ids {
		n := c.node(id)
		if n.g != nil && n.g.Raft().State() == raft.Leader {
			return n
		}
	}
	return nil
}

func (c *testCluster) ids() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.id)
	}
	return out
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes. Raft runs on
// real timers, so the condition is re-checked at a short interval rather
// than after a fixed sleep.
func (c *testCluster) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			c.t.Fatalf("timed out after %v waiting for: %s", timeout, what)
		case <-tick.C:
		}
	}
}

// converged waits until every live member has applied the same index,
// then checks their states are identical.
func (c *testCluster) converged() {
	c.t.Helper()
	var want uint64
	for _, n := range c.nodes {
		if n.g != nil {
			want = max(want, n.g.FSM().AppliedIndex())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ref *meta.State
	var refID string
	for _, n := range c.nodes {
		if n.g == nil {
			continue
		}
		if err := n.g.FSM().WaitApplied(ctx, want); err != nil {
			c.t.Fatalf("%s did not apply index %d: %v", n.id, want, err)
		}
	}
	for _, n := range c.nodes {
		if n.g == nil {
			continue
		}
		s := n.g.FSM().State()
		s.Index = 0 // members may have applied further no-op entries
		if ref == nil {
			ref, refID = s, n.id
			continue
		}
		if d := diffStates(ref, s); d != "" {
			c.t.Fatalf("state of %s differs from %s: %s", n.id, refID, d)
		}
	}
}
