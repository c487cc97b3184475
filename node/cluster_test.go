package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// testCluster is a cluster of nodes in one process: in-memory engines, a
// message-level in-memory transport, a fake clock, a shared metadata
// fake, and per-node liveness views that the test sets, as gossip would.
type testCluster struct {
	t     testing.TB
	tr    *rpc.MemTransport
	clock *clock.Fake
	md    *MemMetadata
	ring  *ring.Ring
	ids   []string
	nodes map[string]*clusterNode
}

type clusterNode struct {
	*Node
	eng  *store.Faulty
	view *LiveView
}

const testRingSize = 32

func newTestCluster(t testing.TB, size int, mutate ...func(*Config)) *testCluster {
	t.Helper()
	fc := clock.NewFake(testEpoch)
	c := &testCluster{
		t: t, tr: rpc.NewMemTransport(1, fc), clock: fc,
		md: NewMemMetadata(fc, DefaultProps(), nil), nodes: map[string]*clusterNode{},
	}
	for i := range size {
		c.ids = append(c.ids, fmt.Sprintf("n%d", i+1))
	}
	r, err := ring.Claim(ring.Config{Size: testRingSize}, nil, c.ids, 3)
	if err != nil {
		t.Fatal(err)
	}
	c.ring = r
	addrs := c.addrs()
	for _, id := range c.ids {
		cfg := DefaultLocalConfig(id)
		cfg.RingSize = testRingSize
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.Clock = fc
		for _, m := range mutate {
			m(&cfg)
		}
		eng := store.NewFaulty(store.NewMem())
		view := &LiveView{}
		n, err := NewClustered(cfg, eng, c.md, c.tr.Host(id), view)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SetTopology(Topology{Ring: r, Addrs: addrs}); err != nil {
			t.Fatal(err)
		}
		c.tr.Listen(id, n.HandleRPC)
		c.nodes[id] = &clusterNode{Node: n, eng: eng, view: view}
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			_ = n.Close()
		}
		_ = c.tr.Close()
		for _, n := range c.nodes {
			_ = n.eng.Close()
		}
	})
	return c
}

func (c *testCluster) node(id string) *clusterNode { return c.nodes[id] }

// addrs maps every node to its address on the transport: its id.
func (c *testCluster) addrs() map[string]string {
	a := map[string]string{}
	for _, id := range c.ids {
		a[id] = id
	}
	return a
}

// stop takes a node off the network, and every other node learns it is
// down (gossip's verdict).
func (c *testCluster) stop(id string) {
	c.tr.Stop(id)
	for _, n := range c.nodes {
		n.view.Set(id, false)
	}
}

// crashUnnoticed takes a node off the network before gossip notices:
// the others still think it is up, and find out by failing to reach it.
func (c *testCluster) crashUnnoticed(id string) { c.tr.Stop(id) }

func (c *testCluster) start(id string) {
	c.tr.Listen(id, c.nodes[id].HandleRPC)
	for _, n := range c.nodes {
		n.view.Set(id, true)
	}
}

// partition cuts a from b, and each side sees the other as down.
func (c *testCluster) partition(a, b []string) {
	c.tr.Partition(a, b)
	for _, x := range a {
		for _, y := range b {
			c.nodes[x].view.Set(y, false)
			c.nodes[y].view.Set(x, false)
		}
	}
}

func (c *testCluster) heal() {
	c.tr.Heal()
	for _, n := range c.nodes {
		for _, id := range c.ids {
			n.view.Set(id, true)
		}
	}
}

// idle waits until every node's background work (the rest of a get,
// read repair) is done.
func (c *testCluster) idle() {
	for _, n := range c.nodes {
		n.WaitIdle()
	}
}

// primaries are the nodes of loc's preference list, in order.
func (c *testCluster) primaries(loc Location) []ring.VNode {
	return c.ring.Preflist(loc.Bytes(), 3)
}

// outside returns a node that holds no replica of loc.
func (c *testCluster) outside(loc Location) string {
	for _, id := range c.ids {
		if !slices.ContainsFunc(c.primaries(loc), func(v ring.VNode) bool { return v.Node == id }) {
			return id
		}
	}
	c.t.Fatalf("every node holds a replica of %v", loc)
	return ""
}

// stored reads what vnode vn holds for loc, straight from its engine.
func (c *testCluster) stored(vn ring.VNode, loc Location) *object.Object {
	c.t.Helper()
	o, err := c.nodes[vn.Node].local.load(vn.Partition, loc.Bytes())
	if err != nil {
		c.t.Fatalf("load %v from %s: %v", loc, vnodeName(vn), err)
	}
	return o
}

func q(n int) Quorum { return Quorum(n) }

func cput(t *testing.T, n *clusterNode, loc Location, val string, opts PutOptions) (*object.Object, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return n.Put(ctx, loc, object.Content{Value: []byte(val), ContentType: "text/plain"}, opts)
}

func cget(t *testing.T, n *clusterNode, loc Location, opts GetOptions) (*object.Object, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return n.Get(ctx, loc, opts)
}

func putOpts(w, dw, pw int) PutOptions {
	o := DefaultPutOptions()
	o.W, o.DW, o.PW = q(w), q(dw), q(pw)
	return o
}

func getOpts(r, pr int) GetOptions {
	o := DefaultGetOptions()
	o.R, o.PR = q(r), q(pr)
	return o
}

// A write through any node, a read through any other: the write is
// coordinated by a replica (forwarded when the receiving node holds
// none) and lands on all three primaries.
func TestClusterPutGetAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 5)
	for i := range 20 {
		loc := Location{Type: DefaultType, Bucket: "b", Key: fmt.Sprintf("k%d", i)}
		from := c.node(c.ids[i%5])
		if _, err := cput(t, from, loc, "v", putOpts(3, 0, 0)); err != nil {
			t.Fatalf("put %v via %s: %v", loc, from.ID(), err)
		}
		got, err := cget(t, c.node(c.ids[(i+2)%5]), loc, getOpts(3, 3))
		if err != nil || !slices.Equal(values(got), []string{"v"}) {
			t.Fatalf("get %v: %v %v", loc, values(got), err)
		}
		for _, vn := range c.primaries(loc) {
			if o := c.stored(vn, loc); o == nil || !slices.Equal(values(o), []string{"v"}) {
				t.Fatalf("primary %s holds %v", vnodeName(vn), o)
			}
		}
	}
	c.idle()
	var forwarded uint64
	for _, n := range c.nodes {
		forwarded += n.Stats().ForwardedPuts
	}
	if forwarded == 0 {
		t.Fatal("no write was forwarded, though some went to nodes outside their preference list")
	}
}

// Writes and reads with every quorum combination that matters, with
// primaries down (known to gossip), crashed unnoticed, or all up.
func TestClusterQuorums(t *testing.T) {
	loc := Location{Type: DefaultType, Bucket: "b", Key: "quorum"}
	cases := []struct {
		name      string
		down      int // primaries stopped, gossip knows
		unnoticed int // primaries stopped, gossip does not know yet
		w, dw, pw int
		putOK     bool
		r, pr     int
		getOK     bool
	}{
		{name: "all up, all", w: 3, dw: 3, pw: 3, putOK: true, r: 3, pr: 3, getOK: true},
		{name: "all up, one", w: 1, pw: 1, putOK: true, r: 1, pr: 1, getOK: true},
		{name: "one down, w=2", down: 1, w: 2, putOK: true, r: 2, pr: 2, getOK: true},
		{name: "one down, w=3 by fallback", down: 1, w: 3, putOK: true, r: 3, getOK: true},
		{name: "one down, pw=3", down: 1, w: 2, pw: 3, putOK: false, r: 2, pr: 3, getOK: false},
		{name: "one down, pw=2 dw=2", down: 1, w: 2, dw: 2, pw: 2, putOK: true, r: 2, pr: 2, getOK: true},
		{name: "two down, w=3 by fallbacks", down: 2, w: 3, putOK: true, r: 2, pr: 1, getOK: true},
		{name: "two down, pw=2", down: 2, w: 2, pw: 2, putOK: false, r: 2, pr: 2, getOK: false},
		{name: "one unnoticed, w=3 by spare", unnoticed: 1, w: 3, putOK: true, r: 2, pr: 2, getOK: true},
		{name: "one unnoticed, pw=3", unnoticed: 1, w: 2, pw: 3, putOK: false, r: 3, pr: 3, getOK: false},
		{name: "three down, w=2 on fallbacks", down: 3, w: 2, putOK: true, r: 2, getOK: true},
		{name: "three down, w=3", down: 3, w: 3, putOK: false, r: 1, pr: 1, getOK: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t, 5)
			prims := c.primaries(loc)
			coord := c.node(c.outside(loc))
			for _, vn := range prims[:tc.down] {
				c.stop(vn.Node)
			}
			for _, vn := range prims[tc.down : tc.down+tc.unnoticed] {
				c.crashUnnoticed(vn.Node)
			}
			_, err := cput(t, coord, loc, "v", putOpts(tc.w, tc.dw, tc.pw))
			if tc.putOK && err != nil {
				t.Fatalf("put w=%d dw=%d pw=%d: %v", tc.w, tc.dw, tc.pw, err)
			}
			if !tc.putOK && !errors.Is(err, ErrQuorumNotMet) {
				t.Fatalf("put w=%d dw=%d pw=%d: got %v, want ErrQuorumNotMet", tc.w, tc.dw, tc.pw, err)
			}
			c.idle()
			got, err := cget(t, coord, loc, getOpts(tc.r, tc.pr))
			switch {
			case tc.getOK && tc.putOK:
				if err != nil || !slices.Equal(values(got), []string{"v"}) {
					t.Fatalf("get r=%d pr=%d: %v %v", tc.r, tc.pr, values(got), err)
				}
			case !tc.getOK:
				if !errors.Is(err, ErrQuorumNotMet) && !errors.Is(err, ErrNotFound) {
					t.Fatalf("get r=%d pr=%d: got %v %v, want a quorum failure", tc.r, tc.pr, values(got), err)
				}
				if tc.pr > 0 && !errors.Is(err, ErrQuorumNotMet) {
					t.Fatalf("get pr=%d with primaries down: got %v, want ErrQuorumNotMet", tc.pr, err)
				}
			}
		})
	}
}

// A quorum failure names the replicas that did answer.
func TestClusterQuorumErrorNamesReplicas(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "named"}
	prims := c.primaries(loc)
	c.stop(prims[1].Node)
	_, err := cput(t, c.node(prims[0].Node), loc, "v", putOpts(2, 0, 3))
	if !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("put pw=3 with a primary down: %v", err)
	}
	// Which replies came before the verdict varies (pw=3 can fail on the
	// first), but the error lists the vnodes that had answered.
	if !regexp.MustCompile(`acknowledged \[n\d+/\d+`).MatchString(err.Error()) {
		t.Fatalf("error %q does not name the replicas that answered", err)
	}
}

// Two coordinators write the same key concurrently without context: both
// values survive as siblings, and a write carrying the read's context
// resolves them.
func TestClusterSiblingsFromTwoCoordinators(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "sib"}
	prims := c.primaries(loc)
	a, b := c.node(prims[0].Node), c.node(prims[1].Node)
	var wg sync.WaitGroup
	for _, w := range []struct {
		n   *clusterNode
		val string
	}{{a, "from-a"}, {b, "from-b"}} {
		wg.Go(func() {
			if _, err := cput(t, w.n, loc, w.val, putOpts(2, 0, 0)); err != nil {
				t.Errorf("put %s: %v", w.val, err)
			}
		})
	}
	wg.Wait()
	c.idle()
	got, err := cget(t, c.node(c.outside(loc)), loc, getOpts(3, 0))
	if err != nil || !slices.Equal(values(got), []string{"from-a", "from-b"}) {
		t.Fatalf("after concurrent writes: %v %v, want both siblings", values(got), err)
	}
	opts := putOpts(3, 0, 0)
	opts.Context = got.Context()
	opts.ReturnBody = true
	res, err := cput(t, c.node(c.outside(loc)), loc, "resolved", opts)
	if err != nil || !slices.Equal(values(res), []string{"resolved"}) {
		t.Fatalf("resolving write: %v %v", values(res), err)
	}
	c.idle()
	for _, vn := range prims {
		if o := c.stored(vn, loc); !slices.Equal(values(o), []string{"resolved"}) {
			t.Fatalf("%s holds %v after the resolving write", vnodeName(vn), values(o))
		}
	}
}

// A replica that missed a write is repaired by the next read, once every
// replica has answered.
func TestClusterReadRepair(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		t.Run(fmt.Sprintf("disabled=%v", disabled), func(t *testing.T) {
			c := newTestCluster(t, 5, func(cfg *Config) { cfg.DisableReadRepair = disabled })
			loc := Location{Type: DefaultType, Bucket: "b", Key: "rr"}
			prims := c.primaries(loc)
			missed := prims[2]
			c.stop(missed.Node)
			if _, err := cput(t, c.node(prims[0].Node), loc, "v1", putOpts(2, 0, 2)); err != nil {
				t.Fatal(err)
			}
			c.idle()
			c.start(missed.Node)
			if o := c.stored(missed, loc); o != nil {
				t.Fatalf("%s holds %v before repair", vnodeName(missed), values(o))
			}
			before := c.node(prims[0].Node).Stats().ReadRepairs
			got, err := cget(t, c.node(prims[0].Node), loc, getOpts(2, 0))
			if err != nil || !slices.Equal(values(got), []string{"v1"}) {
				t.Fatalf("get: %v %v", values(got), err)
			}
			c.idle()
			want, repairs := []string{"v1"}, before+1
			if disabled {
				want, repairs = nil, before // left to anti-entropy
			}
			if o := c.stored(missed, loc); !slices.Equal(values(o), want) {
				t.Fatalf("%s holds %v after the read, want %v", vnodeName(missed), values(o), want)
			}
			if after := c.node(prims[0].Node).Stats().ReadRepairs; after != repairs {
				t.Fatalf("read repairs %d -> %d, want %d", before, after, repairs)
			}
		})
	}
}

// With a primary down, a W=2 write succeeds through a fallback, which
// stores the value under the down primary's partition; once the primary
// is back, hinted handoff delivers it and the fallback lets go of it.
func TestClusterSloppyQuorumAndHandoff(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "sloppy"}
	prims := c.primaries(loc)
	down := prims[1]
	c.stop(down.Node)
	coord := c.node(prims[0].Node)
	if _, err := cput(t, coord, loc, "v", putOpts(3, 0, 0)); err != nil {
		t.Fatalf("w=3 with a primary down: %v", err)
	}
	c.idle()
	var fallback string
	for _, id := range c.ids {
		if id == down.Node || slices.ContainsFunc(prims, func(v ring.VNode) bool { return v.Node == id }) {
			continue
		}
		if o := c.stored(ring.VNode{Partition: down.Partition, Node: id}, loc); o != nil {
			fallback = id
		}
	}
	if fallback == "" {
		t.Fatalf("no fallback holds the write under partition %d", down.Partition)
	}
	if _, err := cput(t, coord, loc, "v2", putOpts(2, 0, 3)); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("pw=3 with a primary down: %v, want ErrQuorumNotMet", err)
	}

	c.start(down.Node)
	n, err := c.node(fallback).HandOffHints(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("handoff from %s: %d objects, %v", fallback, n, err)
	}
	if o := c.stored(down, loc); o == nil || !slices.Contains(values(o), "v") {
		t.Fatalf("primary %s holds %v after handoff", vnodeName(down), o)
	}
	if o := c.stored(ring.VNode{Partition: down.Partition, Node: fallback}, loc); o != nil {
		t.Fatalf("fallback %s still holds %v after handing it off", fallback, values(o))
	}
}

// With a primary down, a read that asks for every primary cannot be met:
// it is a quorum error, whatever order the replies come in, never a 404
// (the fallback's notfound says nothing of what the primaries hold). The
// write that went to the fallback up front is counted as one.
func TestClusterUnmetPRIsNotNotFound(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "pr"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)
	if _, err := cput(t, coord, loc, "v", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.stop(prims[2].Node)
	// Through every node that is up: when the fallback coordinates, its
	// own notfound comes first.
	for _, id := range c.ids {
		if id == prims[2].Node {
			continue
		}
		for range 10 {
			_, err := cget(t, c.node(id), loc, getOpts(0, 3))
			if !errors.Is(err, ErrQuorumNotMet) {
				t.Fatalf("pr=3 through %s with a primary down: %v, want ErrQuorumNotMet", id, err)
			}
		}
	}
	c.idle()
	before := coord.metrics.fallbackWrites.Load()
	if _, err := cput(t, coord, loc, "v2", putOpts(2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	if got := coord.metrics.fallbackWrites.Load() - before; got != 1 {
		t.Fatalf("%d fallback writes counted for a write with one primary down, want 1", got)
	}
}

// A partitioned minority keeps taking W=1 writes on fallbacks; after the
// partition heals and hints are handed off, a read with R=all sees every
// acknowledged write, with siblings where both sides wrote one key.
func TestClusterPartitionedMinorityLosesNothing(t *testing.T) {
	c := newTestCluster(t, 5)
	minority, majority := c.ids[:2], c.ids[2:]
	c.partition(minority, majority)
	type ack struct {
		loc Location
		val string
	}
	var acked []ack
	for i := range 40 {
		loc := Location{Type: DefaultType, Bucket: "b", Key: fmt.Sprintf("k%d", i%25)}
		side := minority
		if i%2 == 1 {
			side = majority
		}
		n := c.node(side[i%len(side)])
		val := fmt.Sprintf("v%d-%s", i, n.ID())
		if _, err := cput(t, n, loc, val, putOpts(1, 0, 0)); err != nil {
			t.Fatalf("w=1 put of %v on %s during the partition: %v", loc, n.ID(), err)
		}
		acked = append(acked, ack{loc, val})
	}
	c.idle()
	c.heal()
	for _, id := range c.ids {
		if _, err := c.node(id).HandOffHints(context.Background()); err != nil {
			t.Fatalf("handoff from %s: %v", id, err)
		}
	}
	latest := map[Location]*object.Object{}
	for _, a := range acked {
		if _, ok := latest[a.loc]; ok {
			continue
		}
		got, err := cget(t, c.node(c.ids[0]), a.loc, getOpts(3, 3))
		if err != nil {
			t.Fatalf("get %v with r=all after healing: %v", a.loc, err)
		}
		latest[a.loc] = got
	}
	for _, a := range acked {
		// Every write was blind (no context), so none supersedes another:
		// each acknowledged value must be there, as a sibling if need be.
		vs := values(latest[a.loc])
		if !slices.Contains(vs, a.val) {
			t.Fatalf("acknowledged %s at %v lost: read %v", a.val, a.loc, vs)
		}
	}
}

// Listing a bucket asks every member, so it finds keys whose replicas
// all live on other nodes, leaves deleted keys out, and fails rather
// than answer a partial list when a member is unreachable.
func TestClusterListKeys(t *testing.T) {
	c := newTestCluster(t, 5)
	var want []string
	for i := range 30 {
		loc := Location{Type: DefaultType, Bucket: "list", Key: fmt.Sprintf("k%02d", i)}
		if _, err := cput(t, c.node(c.ids[i%5]), loc, "v", putOpts(3, 0, 0)); err != nil {
			t.Fatal(err)
		}
		want = append(want, loc.Key)
	}
	if _, err := cput(t, c.node("n1"), Location{Type: DefaultType, Bucket: "other", Key: "x"}, "v", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	del := Location{Type: DefaultType, Bucket: "list", Key: "k07"}
	if err := cdelete(t, c.node("n2"), del, 3); err != nil {
		t.Fatal(err)
	}
	want = slices.DeleteFunc(want, func(k string) bool { return k == del.Key })
	c.idle()
	list := func(n *clusterNode) ([]string, error) {
		var got []string
		err := n.ListKeys(context.Background(), DefaultType, "list", func(k string) error {
			got = append(got, k)
			return nil
		})
		slices.Sort(got)
		return got, err
	}
	for _, id := range c.ids {
		got, err := list(c.node(id))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("keys listed by %s: %v %v, want %v", id, got, err, want)
		}
	}
	var buckets []string
	if err := c.node("n3").ListBuckets(context.Background(), DefaultType, func(b string) error {
		buckets = append(buckets, b)
		return nil
	}); err != nil || !slices.Equal(buckets, []string{"list", "other"}) {
		t.Fatalf("buckets: %v %v", buckets, err)
	}
	c.stop("n5")
	if _, err := list(c.node("n1")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("listing with a member down: %v, want ErrUnavailable", err)
	}
}

// kv.names pages: each answer carries at most Limit names after After.
func TestClusterNamesPaging(t *testing.T) {
	c := newTestCluster(t, 3)
	n := c.node("n1")
	var want []string
	for i := range 23 {
		loc := Location{Type: DefaultType, Bucket: "p", Key: fmt.Sprintf("k%02d", i)}
		if _, err := cput(t, n, loc, "v", putOpts(3, 0, 0)); err != nil {
			t.Fatal(err)
		}
		want = append(want, loc.Key)
	}
	c.idle()
	var got []string
	req := namesReq{Prefix: BucketPrefix(DefaultType, "p"), Limit: 5}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		body, _ := encodeMsg(&req)
		out, err := n.HandleRPC(context.Background(), methodNames, body)
		if err != nil {
			t.Fatal(err)
		}
		var resp namesResp
		if err := decodeMsg(out, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.Names) > 5 {
			t.Fatalf("page of %d names, limit 5", len(resp.Names))
		}
		got = append(got, resp.Names...)
		if !resp.More {
			break
		}
		req.After = resp.Names[len(resp.Names)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged names %v, want %v", got, want)
	}
}

// A partition moves to a new owner: writes made while the move is pending
// reach the receiver too, RunTransfers copies the rest and commits, and
// afterwards the old owner's copy is handed off and dropped.
func TestClusterOwnershipTransfer(t *testing.T) {
	c := newTestCluster(t, 5)
	first := Location{Type: DefaultType, Bucket: "b", Key: "moving"}
	prims := c.primaries(first)
	p, from := prims[0].Partition, prims[0].Node
	to := c.outside(first)
	keysIn := func(n int) []Location {
		var out []Location
		for i := 0; len(out) < n; i++ {
			l := Location{Type: DefaultType, Bucket: "b", Key: fmt.Sprintf("m%d", i)}
			if c.ring.PartitionOf(l.Bytes()) == p {
				out = append(out, l)
			}
		}
		return out
	}
	locs := append([]Location{first}, keysIn(3)...)
	for _, l := range locs[:2] {
		if _, err := cput(t, c.node(from), l, "before", putOpts(3, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	addrs := c.addrs()
	setAll := func(top Topology) {
		for _, n := range c.nodes {
			if err := n.SetTopology(top); err != nil {
				t.Fatal(err)
			}
		}
	}
	setAll(Topology{Ring: c.ring, Addrs: addrs, Pending: []Transfer{{Partition: p, From: from, To: to}}})
	dst := ring.VNode{Partition: p, Node: to}
	if _, err := cput(t, c.node(c.ids[0]), locs[2], "during", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	if o := c.stored(dst, locs[2]); !slices.Equal(values(o), []string{"during"}) {
		t.Fatalf("a write during the move did not reach the receiver: %v", o)
	}

	owners := c.ring.Owners()
	owners[p] = to
	next, err := ring.New(ring.Config{Size: testRingSize}, owners, c.ring.Epoch()+1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Transfer, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		c.node(from).RunHandoff(ctx, time.Hour, func(_ context.Context, tr Transfer) error {
			setAll(Topology{Ring: next, Addrs: addrs})
			done <- tr
			return nil
		})
	})
	select {
	case tr := <-done:
		if tr != (Transfer{Partition: p, From: from, To: to}) {
			t.Fatalf("completed %+v", tr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the transfer did not complete")
	}
	for c.node(from).Stats().Transfers == 0 {
		runtime.Gosched() // until the loop has recorded the completion
	}
	cancel()
	wg.Wait()
	for _, l := range locs[:3] {
		if o := c.stored(dst, l); o == nil {
			t.Fatalf("%v missing on the new owner after the move", l)
		}
	}
	if c.node(from).Stats().Transfers != 1 {
		t.Fatalf("transfers counted: %d", c.node(from).Stats().Transfers)
	}
	// The old owner no longer owns p: its copy is a hint for the new one.
	if n, err := c.node(from).HandOffHints(context.Background()); err != nil || n == 0 {
		t.Fatalf("old owner handed off %d objects: %v", n, err)
	}
	for _, l := range locs[:3] {
		if o := c.stored(ring.VNode{Partition: p, Node: from}, l); o != nil {
			t.Fatalf("old owner still holds %v", l)
		}
		got, err := cget(t, c.node(c.ids[4]), l, getOpts(3, 3))
		if err != nil || len(values(got)) != 1 {
			t.Fatalf("read %v after the move: %v %v", l, values(got), err)
		}
	}
}

// A move whose commit fails is retried after the handoff backoff on the
// node's clock, not before.
func TestClusterTransferRetry(t *testing.T) {
	c := newTestCluster(t, 5)
	addrs := c.addrs()
	p := 0
	from := c.ring.Owner(p)
	to := c.ids[0]
	if to == from {
		to = c.ids[1]
	}
	n := c.node(from)
	if err := n.SetTopology(Topology{Ring: c.ring, Addrs: addrs, Pending: []Transfer{{Partition: p, From: from, To: to}}}); err != nil {
		t.Fatal(err)
	}
	attempts := make(chan int, 4)
	count := 0
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		n.RunHandoff(ctx, time.Hour, func(context.Context, Transfer) error {
			count++
			attempts <- count
			if count == 1 {
				return errors.New("no leader")
			}
			return nil
		})
	})
	if got := <-attempts; got != 1 {
		t.Fatalf("attempt %d first", got)
	}
	// Wait for the loop to record the failure: the transfer is retrying.
	for {
		l := n.LocalTransfers()
		if len(l) == 1 && l[0].State == handoff.Retrying {
			break
		}
		runtime.Gosched()
	}
	select {
	case a := <-attempts:
		t.Fatalf("attempt %d before the retry pause", a)
	default:
	}
	// The loop arms its retry timer after it records the failure, so one
	// advance may come before the timer exists: advance until the retry
	// starts.
	for got := 0; got == 0; {
		select {
		case got = <-attempts:
			if got != 2 {
				t.Fatalf("attempt %d after the pause", got)
			}
		default:
			c.clock.Advance(n.cfg.Handoff.MinBackoff)
			runtime.Gosched()
		}
	}
	for len(n.LocalTransfers()) > 0 {
		runtime.Gosched() // until the loop has recorded the completion
	}
	cancel()
	wg.Wait()
	if got := n.Stats().Transfers; got != 1 {
		t.Fatalf("%d transfers counted, want 1", got)
	}
}

// A primary down longer than the hint window gets no fallback: writes go
// to the remaining replicas (w=2 still succeeds), no new hint is
// collected for it, and within the window hints are collected as usual.
func TestClusterHintWindow(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "window"}
	prims := c.primaries(loc)
	down := prims[2]
	coord := c.node(prims[0].Node)
	c.stop(down.Node)
	coord.MarkDown(down.Node, c.clock.Now())
	hinted := func() int {
		held := 0
		for _, id := range c.ids {
			if id != down.Node && !slices.ContainsFunc(prims, func(v ring.VNode) bool { return v.Node == id }) {
				if o := c.stored(ring.VNode{Partition: down.Partition, Node: id}, loc); o != nil {
					held++
				}
			}
		}
		return held
	}
	if _, err := cput(t, coord, loc, "inside", putOpts(3, 0, 0)); err != nil {
		t.Fatalf("w=3 inside the hint window: %v", err)
	}
	c.idle()
	if hinted() != 1 {
		t.Fatalf("%d fallbacks hold a hint inside the window, want 1", hinted())
	}
	c.clock.Advance(coord.cfg.Handoff.HintWindow)
	if _, err := cput(t, coord, loc, "outside", putOpts(2, 0, 0)); err != nil {
		t.Fatalf("w=2 past the hint window: %v", err)
	}
	if _, err := cput(t, coord, loc, "outside", putOpts(3, 0, 0)); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("w=3 past the hint window: %v, want ErrQuorumNotMet (no fallback)", err)
	}
	c.idle()
	for _, id := range c.ids {
		if id == down.Node || slices.ContainsFunc(prims, func(v ring.VNode) bool { return v.Node == id }) {
			continue
		}
		if o := c.stored(ring.VNode{Partition: down.Partition, Node: id}, loc); o != nil && slices.Contains(values(o), "outside") {
			t.Fatalf("%s collected a hint past the window: %v", id, values(o))
		}
	}
	// Back up: the window closes, and a later outage starts a new one.
	c.start(down.Node)
	if _, err := cput(t, coord, loc, "back", putOpts(3, 0, 3)); err != nil {
		t.Fatal(err)
	}
	c.stop(down.Node)
	if _, err := cput(t, coord, loc, "again", putOpts(3, 0, 0)); err != nil {
		t.Fatalf("w=3 at the start of a new outage: %v", err)
	}
}

// A sender that restarts resumes a move after the cursor it saved: the
// keys before it are not sent again.
func TestClusterTransferResumesFromSavedCursor(t *testing.T) {
	c := newTestCluster(t, 5)
	p := 3
	from := c.ring.Owner(p)
	to := c.ids[0]
	if to == from {
		to = c.ids[1]
	}
	n := c.node(from)
	var keys [][]byte
	for i := 0; len(keys) < 40; i++ {
		l := Location{Type: DefaultType, Bucket: "r", Key: fmt.Sprintf("k%03d", i)}
		if c.ring.PartitionOf(l.Bytes()) != p {
			continue
		}
		if _, err := n.local.PutReplica(context.Background(), ring.VNode{Partition: p, Node: from}, l.Bytes(), liveObject(), ReplicaWrite{}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, l.Bytes())
	}
	slices.SortFunc(keys, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
	id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	// What an earlier run of the node saved after its first 25 keys.
	n.handoff.mu.Lock()
	n.handoff.saveCursor(id, savedCursor{Cursor: keys[24], Keys: 25, Bytes: 2500})
	n.handoff.mu.Unlock()

	addrs := c.addrs()
	if err := n.SetTopology(Topology{Ring: c.ring, Addrs: addrs, Pending: []Transfer{{Partition: p, From: from, To: to}}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		n.RunHandoff(ctx, time.Hour, func(context.Context, Transfer) error {
			close(done)
			return nil
		})
	})
	<-done
	for len(n.LocalTransfers()) > 0 {
		runtime.Gosched() // until the loop has recorded the completion
	}
	cancel()
	wg.Wait()
	for i, k := range keys {
		loc, _ := ParseLocation(k)
		held := c.stored(ring.VNode{Partition: p, Node: to}, loc) != nil
		if held != (i >= 25) {
			t.Fatalf("key %d of %d (%s): on the receiver %v; only keys after the cursor should have been sent", i, len(keys), loc, held)
		}
	}
	if got := n.Stats().HandoffObjects; got != uint64(len(keys)-25) {
		t.Fatalf("sent %d objects, want the %d after the cursor", got, len(keys)-25)
	}
	var left int
	_ = n.eng.Iterate(localPartition, []byte(cursorPrefix), func(_, _ []byte) error { left++; return nil })
	if left != 0 {
		t.Fatalf("%d saved cursors left after the move completed", left)
	}
}

// Hints for a down owner are listed as held, not delivered; an operator
// may drop them, which deletes them; an ownership transfer cannot be
// dropped.
func TestClusterHeldHintsCanBeDropped(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "held"}
	prims := c.primaries(loc)
	down := prims[1]
	c.stop(down.Node)
	if _, err := cput(t, c.node(prims[0].Node), loc, "v", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	var fb *clusterNode
	for _, id := range c.ids {
		if o := c.stored(ring.VNode{Partition: down.Partition, Node: id}, loc); o != nil && id != prims[0].Node && id != prims[2].Node {
			fb = c.node(id)
		}
	}
	if fb == nil {
		t.Fatal("no fallback holds the write")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { fb.RunHandoff(ctx, time.Hour, nil) })
	defer func() { cancel(); wg.Wait() }()
	id := handoff.ID{Kind: handoff.Hinted, Partition: down.Partition, From: fb.ID(), To: down.Node}
	for {
		l := fb.LocalTransfers()
		if len(l) == 1 && l[0].ID == id && l[0].State == handoff.Held {
			break
		}
		runtime.Gosched()
	}
	if err := fb.ControlTransfer(ctx, handoff.ID{Kind: handoff.Ownership, Partition: down.Partition, From: fb.ID(), To: down.Node}, handoff.Drop); err == nil {
		t.Fatal("dropped an ownership transfer that does not exist")
	}
	if err := c.node(prims[0].Node).ControlTransfer(ctx, id, handoff.Drop); err != nil {
		t.Fatalf("drop through another node: %v", err)
	}
	if o := c.stored(ring.VNode{Partition: down.Partition, Node: fb.ID()}, loc); o != nil {
		t.Fatalf("hint still held after the drop: %v", o)
	}
	if l := fb.LocalTransfers(); len(l) != 0 {
		t.Fatalf("transfers after the drop: %+v", l)
	}
}
