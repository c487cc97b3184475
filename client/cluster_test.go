package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// testCluster is a cairn cluster in the test process: nodes on in-memory
// engines, joined by an in-memory transport and one shared metadata fake
// (which has the consistent bucket type "strong"), each serving the HTTP
// API on a loopback httptest server.
type testCluster struct {
	tr    *rpc.MemTransport
	md    *node.MemMetadata
	live  *node.LiveView
	ids   []string
	nodes map[string]*node.Node
	engs  map[string]*store.Mem
	srvs  map[string]*httptest.Server
}

// startCluster starts size nodes n1..n<size> with n_val 3. Examples use it
// too, so it returns an error rather than take a testing.T.
func startCluster(size int) (_ *testCluster, err error) {
	clk := clock.Real{}
	strong := node.DefaultProps()
	strong.Consistent, strong.AllowMult = true, false
	c := &testCluster{
		tr:    rpc.NewMemTransport(1, clk),
		md:    node.NewMemMetadata(clk, node.DefaultProps(), map[string]node.Props{"strong": strong}),
		live:  &node.LiveView{},
		nodes: map[string]*node.Node{},
		engs:  map[string]*store.Mem{},
		srvs:  map[string]*httptest.Server{},
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	addrs := map[string]string{}
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		c.ids = append(c.ids, id)
		addrs[id] = id
	}
	const ringSize = 16
	r, err := ring.Claim(ring.Config{Size: ringSize}, nil, c.ids, 3)
	if err != nil {
		return nil, err
	}
	for _, id := range c.ids {
		cfg := node.DefaultLocalConfig(id)
		cfg.RingSize = ringSize
		cfg.Clock = clk
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.ReapGrace = -1 // keep tombstones: tests read them back
		cfg.AAE.Enabled = false
		eng := store.NewMem()
		c.engs[id] = eng
		n, err := node.NewClustered(cfg, eng, c.md, c.tr.Host(id), c.live)
		if err != nil {
			return nil, err
		}
		c.nodes[id] = n
		if err := n.SetTopology(node.Topology{Ring: r, Addrs: addrs}); err != nil {
			return nil, err
		}
		c.tr.Listen(id, n.HandleRPC)
		hc := httpapi.DefaultConfig()
		hc.ListBatchSize = 3 // several JSON objects per streamed listing
		api, err := httpapi.New(hc, n, nil, nil)
		if err != nil {
			return nil, err
		}
		c.srvs[id] = httptest.NewServer(api)
	}
	return c, nil
}

// newTestCluster is a 3-node cluster that the test's end closes.
func newTestCluster(t testing.TB) *testCluster {
	t.Helper()
	c, err := startCluster(3)
	if err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	t.Cleanup(c.close)
	return c
}

func (c *testCluster) close() {
	for _, s := range c.srvs {
		s.Close()
	}
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Close())
	}
	errs = append(errs, c.tr.Close())
	for _, e := range c.engs {
		errs = append(errs, e.Close())
	}
	_ = errors.Join(errs...) // nothing to report to: the test is over
}

// urls are the nodes' HTTP base URLs, n1 first.
func (c *testCluster) urls() []string {
	var out []string
	for _, id := range c.ids {
		out = append(out, c.srvs[id].URL)
	}
	return out
}

// stop takes node id down: its HTTP API stops answering, its peers can no
// longer reach it, and gossip tells them so.
func (c *testCluster) stop(id string) {
	c.srvs[id].Close()
	c.tr.Stop(id)
	c.live.Set(id, false)
}

// client is a Client of every node, with quick retries; mutate adjusts
// its Config.
func (c *testCluster) client(t testing.TB, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := DefaultLocalConfig()
	cfg.Nodes = c.urls()
	for _, m := range mutate {
		m(&cfg)
	}
	cl, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}
