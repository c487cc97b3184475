package node

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// readCounter counts, per node, the engine reads of one key from the
// moment it is made.
func (c *testCluster) readCounter(loc Location) func() map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	key := loc.Bytes()
	for id, n := range c.nodes {
		remove := n.eng.InjectError(store.MethodGet, func(call store.Call) bool {
			if bytes.Equal(call.Key, key) {
				mu.Lock()
				counts[id]++
				mu.Unlock()
			}
			return false // count only
		}, nil)
		c.t.Cleanup(remove)
	}
	return func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

// setProps sets properties (a JSON object) of the default type's bucket.
func (c *testCluster) setProps(bucket, props string) {
	c.t.Helper()
	if _, err := c.md.SetBucketProps(context.Background(), DefaultType, bucket, []byte(props)); err != nil {
		c.t.Fatal(err)
	}
}

// setFanout sets the read_fanout of the default type's bucket.
func (c *testCluster) setFanout(bucket, fanout string) {
	c.t.Helper()
	c.setProps(bucket, `{"read_fanout":"`+fanout+`"}`)
}

// fanoutSetup starts a 5-node cluster whose bucket b has read_fanout
// fanout, and returns it with the key k of b and its primaries.
func fanoutSetup(t *testing.T, fanout string, mutate ...func(*Config)) (*testCluster, Location, []ring.VNode) {
	t.Helper()
	c := newTestCluster(t, 5, mutate...)
	c.setFanout("b", fanout)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "k"}
	return c, loc, c.primaries(loc)
}

// putEverywhere writes v to loc through coord with w=3, so that every
// primary holds it, and waits until the cluster is idle.
func (c *testCluster) putEverywhere(coord *clusterNode, loc Location, v string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := coord.Put(ctx, loc, object.Content{Value: []byte(v), ContentType: "text/plain"}, putOpts(3, 0, 0)); err != nil {
		c.t.Fatal(err)
	}
	c.idle()
}

// Under read_fanout "all" a get reads every primary; under "quorum" it
// reads r of them, the coordinator's own first, and the third not at all.
func TestReadFanoutAsksOnlyTheQuorum(t *testing.T) {
	for _, tc := range []struct {
		fanout string
		reads  int
	}{{ReadFanoutAll, 3}, {ReadFanoutQuorum, 2}} {
		t.Run(tc.fanout, func(t *testing.T) {
			c, loc, prims := fanoutSetup(t, tc.fanout)
			// Coordinate through the last primary: its own replica is
			// asked first, so the quorum is it and the first primary.
			coord := c.node(prims[2].Node)
			c.putEverywhere(coord, loc, "v1")
			reads := c.readCounter(loc)
			got, err := cget(t, coord, loc, getOpts(2, 0))
			if err != nil || !slices.Equal(values(got), []string{"v1"}) {
				t.Fatalf("get: %v %v", values(got), err)
			}
			c.idle()
			counts := reads()
			total := 0
			for _, n := range counts {
				total += n
			}
			if total != tc.reads || counts[prims[2].Node] != 1 {
				t.Fatalf("replica reads %v, want %d in all with one on the coordinator %s", counts, tc.reads, prims[2].Node)
			}
			if tc.fanout == ReadFanoutQuorum && counts[prims[1].Node] != 0 {
				t.Fatalf("replica reads %v: the second primary %s was asked although the quorum answered", counts, prims[1].Node)
			}
		})
	}
}

// A replica of the quorum that cannot be reached, before gossip says so,
// is replaced by the next: the get still answers, with the write.
func TestReadFanoutQuorumReplacesFailedReplica(t *testing.T) {
	c, loc, prims := fanoutSetup(t, ReadFanoutQuorum)
	coord := c.node(prims[0].Node)
	c.putEverywhere(coord, loc, "v1")
	c.crashUnnoticed(prims[1].Node)
	reads := c.readCounter(loc)
	got, err := cget(t, coord, loc, getOpts(2, 0))
	if err != nil || !slices.Equal(values(got), []string{"v1"}) {
		t.Fatalf("get with %s unreachable: %v %v", prims[1].Node, values(got), err)
	}
	c.idle()
	if n := reads()[prims[2].Node]; n != 1 {
		t.Fatalf("the third primary %s was read %d times, want once in place of %s", prims[2].Node, n, prims[1].Node)
	}
}

// With notfound_ok false, a replica of the quorum that missed a write
// cannot count: the next replica is asked, the acknowledged write is
// found, and read repair gives it to the replica that missed it before
// the get answers (blocking read repair).
func TestReadFanoutQuorumNotFoundAsksNext(t *testing.T) {
	c, loc, prims := fanoutSetup(t, ReadFanoutQuorum)
	coord := c.node(prims[0].Node)
	missed := prims[1]
	c.stop(missed.Node)
	if _, err := cput(t, coord, loc, "v1", putOpts(2, 0, 2)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.start(missed.Node)
	if o := c.stored(missed, loc); o != nil {
		t.Fatalf("%s holds %v before the read", vnodeName(missed), values(o))
	}
	opts := getOpts(2, 0)
	notfoundOK := false
	opts.NotFoundOK = &notfoundOK
	got, err := cget(t, coord, loc, opts)
	if err != nil || !slices.Equal(values(got), []string{"v1"}) {
		t.Fatalf("get: %v %v", values(got), err)
	}
	if o := c.stored(missed, loc); !slices.Equal(values(o), []string{"v1"}) {
		t.Fatalf("%s holds %v when the get has answered, want it repaired to [v1] first", vnodeName(missed), values(o))
	}
	c.idle()
	if o := c.stored(missed, loc); !slices.Equal(values(o), []string{"v1"}) {
		t.Fatalf("%s holds %v after the read, want it repaired to [v1]", vnodeName(missed), values(o))
	}
}

// A replica of the quorum that goes silent (its messages lost, no error)
// costs ReadSpeculateAfter, not ReplicaTimeout: the get then asks the
// replicas it had not asked and answers from them.
func TestReadFanoutQuorumSpeculates(t *testing.T) {
	// The silent replica's call ends at ReplicaTimeout, on the real clock;
	// a short one keeps the test's wait for the fan-out to end short.
	c, loc, prims := fanoutSetup(t, ReadFanoutQuorum, func(cfg *Config) { cfg.ReplicaTimeout = 200 * time.Millisecond })
	coord := c.node(prims[0].Node)
	c.putEverywhere(coord, loc, "v1")
	c.tr.Block(prims[0].Node, prims[1].Node)
	type result struct {
		vals []string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		got, err := cget(t, coord, loc, getOpts(2, 0))
		done <- result{values(got), err}
	}()
	var res result
	for waiting := true; waiting; {
		select {
		case res = <-done:
			waiting = false
		default:
			// The fake clock moves only when told: each step may fire
			// the get's speculation timer once it is armed.
			c.clock.Advance(coord.cfg.ReadSpeculateAfter)
		}
	}
	if res.err != nil || !slices.Equal(res.vals, []string{"v1"}) {
		t.Fatalf("get with %s silent: %v %v", prims[1].Node, res.vals, res.err)
	}
	if n := coord.Stats().SpeculativeReads; n != 1 {
		t.Fatalf("speculative reads %d, want 1", n)
	}
	c.tr.Heal()
	c.idle()
}

func TestPropsReadFanout(t *testing.T) {
	p := DefaultProps()
	if p.ReadFanout != ReadFanoutAll {
		t.Fatalf("default read_fanout %q", p.ReadFanout)
	}
	q, err := p.Merge([]byte(`{"read_fanout":"quorum"}`))
	if err != nil || q.ReadFanout != ReadFanoutQuorum || q.Validate() != nil {
		t.Fatalf("merge quorum: %+v %v %v", q, err, q.Validate())
	}
	bad, err := p.Merge([]byte(`{"read_fanout":"some"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Validate(); err == nil {
		t.Fatal("read_fanout some: no error")
	}
}

// BenchmarkGetFanout is one get of a 100-byte value on a 5-node cluster in
// one process (in-memory engines and transport, so the figure is the
// node's own work: replica reads, goroutines, merging), r=2 of n_val 3,
// coordinated by the key's first primary, under each read_fanout.
func BenchmarkGetFanout(b *testing.B) {
	for _, fanout := range []string{ReadFanoutAll, ReadFanoutQuorum} {
		b.Run(fanout, func(b *testing.B) {
			c := newTestCluster(b, 5)
			c.setFanout("b", fanout)
			const keys = 256
			locs := make([]Location, keys)
			coords := make([]*clusterNode, keys)
			ctx := context.Background()
			value := object.Content{Value: bytes.Repeat([]byte("v"), 100), ContentType: "text/plain"}
			for i := range locs {
				locs[i] = Location{Type: DefaultType, Bucket: "b", Key: "k" + strconv.Itoa(i)}
				coords[i] = c.node(c.primaries(locs[i])[0].Node)
				if _, err := coords[i].Put(ctx, locs[i], value, putOpts(3, 0, 0)); err != nil {
					b.Fatal(err)
				}
			}
			c.idle()
			opts := getOpts(2, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := coords[i%keys].Get(ctx, locs[i%keys], opts); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.StopTimer()
			c.idle()
		})
	}
}

// BenchmarkPutReplicas is one blind put of a 100-byte value on a 5-node
// cluster in one process (in-memory engines and transport), w=2 dw=0 of
// n_val 3, coordinated by the key's first primary: the node's own work of
// a write and its two replica writes.
func BenchmarkPutReplicas(b *testing.B) {
	c := newTestCluster(b, 5)
	// allow_mult false, as the benchmark tools set it up: blind writes to
	// a bucket keeping siblings would measure their growth.
	c.setProps("b", `{"allow_mult":false}`)
	const keys = 256
	locs := make([]Location, keys)
	coords := make([]*clusterNode, keys)
	for i := range locs {
		locs[i] = Location{Type: DefaultType, Bucket: "b", Key: "k" + strconv.Itoa(i)}
		coords[i] = c.node(c.primaries(locs[i])[0].Node)
	}
	ctx := context.Background()
	value := object.Content{Value: bytes.Repeat([]byte("v"), 100), ContentType: "text/plain"}
	opts := putOpts(2, 0, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := coords[i%keys].Put(ctx, locs[i%keys], value, opts); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	c.idle()
}
