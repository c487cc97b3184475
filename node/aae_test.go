package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// runAAE runs every node's anti-entropy loop until the test ends.
func (c *testCluster) runAAE() {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for _, id := range c.ids {
		n := c.node(id).Node
		wg.Go(func() { n.RunAAE(ctx) })
	}
	c.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// nudgeAAE moves the fake clock one exchange interval on, so that every
// exchange pair becomes due again.
func (c *testCluster) nudgeAAE() {
	cfg := c.node(c.ids[0]).cfg.AAE
	c.clock.Advance(cfg.ExchangeInterval + cfg.ExchangeJitter)
}

// diverged lists the keys of locs that some primary vnode lacks, or holds
// a different object for than the first primary.
func (c *testCluster) diverged(locs []Location) []Location {
	var out []Location
	for _, l := range locs {
		var first *object.Object
		for i, vn := range c.primaries(l) {
			o, err := c.node(vn.Node).local.load(vn.Partition, l.Bytes())
			if err != nil || o.IsEmpty() || (i > 0 && !object.Equal(o, first)) {
				out = append(out, l)
				break
			}
			if i == 0 {
				first = o
			}
		}
	}
	return out
}

func (c *testCluster) counter(f func(m *metrics) uint64) uint64 {
	var total uint64
	for _, id := range c.ids {
		total += f(c.node(id).metrics)
	}
	return total
}

func writeKeys(t *testing.T, c *testCluster, via string, locs []Location) {
	t.Helper()
	for i, l := range locs {
		if _, err := cput(t, c.node(via), l, fmt.Sprintf("v%d", i), putOpts(2, 0, 0)); err != nil {
			t.Fatalf("put %v: %v", l, err)
		}
	}
	c.idle()
}

// Writes that never reached one replica (its link was cut while they
// were made, and nobody reads them afterwards) are repaired by
// anti-entropy alone: no read repair, no hinted handoff.
func TestAAERepairsWritesThatMissedAReplica(t *testing.T) {
	c := newTestCluster(t, 3)
	locs := keysOf(c.ring, "aae", 200, nil)
	c.tr.Partition([]string{"n1", "n2"}, []string{"n3"})
	writeKeys(t, c, "n1", locs)
	c.tr.Heal()
	// A few preference lists of a 3-node ring hold one node twice and
	// miss n3; every other key missed its n3 replica.
	withN3 := slices.DeleteFunc(slices.Clone(locs), func(l Location) bool {
		return !slices.ContainsFunc(c.primaries(l), func(vn ring.VNode) bool { return vn.Node == "n3" })
	})
	if d := c.diverged(locs); len(d) != len(withN3) || len(d) < len(locs)/2 {
		t.Fatalf("%d of %d keys diverged before anti-entropy; want the %d with a replica on n3", len(d), len(locs), len(withN3))
	}
	c.runAAE()
	waitFor(t, "anti-entropy to repair n3", func() bool { return len(c.diverged(locs)) == 0 }, c.nudgeAAE)
	if rr, hh := c.counter(func(m *metrics) uint64 { return m.readRepairs.Load() }), c.counter(func(m *metrics) uint64 { return m.hintsHandedOff.Load() }); rr != 0 || hh != 0 {
		t.Fatalf("read repairs %d, hints handed off %d; want anti-entropy alone", rr, hh)
	}
	if got := c.counter(func(m *metrics) uint64 { return m.aaeKeysRepaired.Load() }); got < uint64(len(withN3)) {
		t.Fatalf("aae repaired %d keys, want at least %d", got, len(withN3))
	}
	st, err := c.node("n3").AAEStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Partitions) == 0 || st.Partitions[0].TreeBuilt.IsZero() {
		t.Fatalf("status shows no built trees: %+v", st)
	}
}

// A vnode whose data and index vanished behind the node's back (a lost
// directory) is refilled: the periodic verify rebuilds its trees from what
// is really there, and exchanges fetch the rest from the replicas.
func TestAAERefillsAVnodeLostBehindTheNodesBack(t *testing.T) {
	c := newTestCluster(t, 3)
	p := c.ring.PartitionsOf("n2")[0]
	locs := keysOf(c.ring, "lost", 100, func(q int) bool { return q == p })
	writeKeys(t, c, "n1", locs)
	c.runAAE()
	waitFor(t, "first verify of every vnode", func() bool { return c.allBuilt() }, c.nudgeAAE)
	eng := c.node("n2").eng
	if err := eng.DropPartition(store.Partition(p)); err != nil {
		t.Fatal(err)
	}
	if err := eng.DropPartition(indexPartition(p)); err != nil {
		t.Fatal(err)
	}
	if len(c.diverged(locs)) != len(locs) {
		t.Fatal("the wipe did not take")
	}
	cfg := c.node("n2").cfg.AAE
	waitFor(t, "verify and exchanges to refill the vnode", func() bool { return len(c.diverged(locs)) == 0 }, func() {
		c.clock.Advance(cfg.RebuildInterval/4 + cfg.ExchangeInterval)
	})
	if rr := c.counter(func(m *metrics) uint64 { return m.readRepairs.Load() }); rr != 0 {
		t.Fatalf("%d read repairs; want anti-entropy alone", rr)
	}
}

func (c *testCluster) allBuilt() bool {
	for _, id := range c.ids {
		a := c.node(id).aae
		a.mu.Lock()
		n := len(a.unbuilt)
		a.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return true
}

// damage rewrites loc's stored bytes on vnode vn through edit, behind the
// node's back (its index entry stays).
func (c *testCluster) damage(t *testing.T, vn ring.VNode, loc Location, edit func(raw []byte)) {
	t.Helper()
	eng := c.node(vn.Node).eng
	raw, err := eng.Get(store.Partition(vn.Partition), loc.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	edit(raw)
	if err := eng.Put(store.Partition(vn.Partition), loc.Bytes(), raw); err != nil {
		t.Fatal(err)
	}
}

// flipMiddle flips the bits of an encoded object's middle byte, which its
// checksum then fails.
func flipMiddle(raw []byte) { raw[len(raw)/2] ^= 0xff }

// leaveAlone deletes loc, and its index entry, from every primary but vn.
func (c *testCluster) leaveAlone(t *testing.T, loc Location, vn ring.VNode) {
	t.Helper()
	for _, e := range c.primaries(loc) {
		if e != vn {
			if err := c.node(e.Node).local.write(e.Partition, loc.Bytes(), nil, oldHash{}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A value damaged on disk, with its index entry intact, is found by the
// verify pass and replaced from a good replica without any read.
func TestAAEReplacesACorruptValue(t *testing.T) {
	c := newTestCluster(t, 3)
	loc := keysOf(c.ring, "rot", 1, nil)[0]
	writeKeys(t, c, "n1", []Location{loc})
	vn := c.primaries(loc)[1]
	good := c.stored(vn, loc)
	c.damage(t, vn, loc, flipMiddle)
	c.runAAE()
	cfg := c.node(vn.Node).cfg.AAE
	waitFor(t, "the corrupt copy to be replaced", func() bool {
		o, err := c.node(vn.Node).local.load(vn.Partition, loc.Bytes())
		return err == nil && object.Equal(o, good)
	}, func() { c.clock.Advance(cfg.RebuildInterval/4 + cfg.ExchangeInterval) })
	if got := c.node(vn.Node).metrics.corruptReads.Load(); got == 0 {
		t.Fatal("the corruption was never reported")
	}
}

// A corrupt copy that no other replica can replace (they hold nothing of
// the key) is deleted: it holds nothing to keep, and while it stays the
// trees differ at every exchange and reads asking every replica fail.
func TestAAEDropsACorruptCopyNoReplicaCanReplace(t *testing.T) {
	c := newTestCluster(t, 3)
	loc := keysOf(c.ring, "orphan", 1, nil)[0]
	writeKeys(t, c, "n1", []Location{loc})
	vn := c.primaries(loc)[1]
	c.leaveAlone(t, loc, vn)
	c.damage(t, vn, loc, flipMiddle)
	if _, err := cget(t, c.node("n1"), loc, getOpts(3, 0)); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("r=all read with a corrupt copy and two absent: %v, want a quorum error", err)
	}
	c.runAAE()
	cfg := c.node(vn.Node).cfg.AAE
	waitFor(t, "the corrupt copy to be deleted", func() bool {
		_, err := c.node(vn.Node).eng.Get(store.Partition(vn.Partition), loc.Bytes())
		return errors.Is(err, store.ErrNotFound)
	}, func() { c.clock.Advance(cfg.RebuildInterval/4 + cfg.ExchangeInterval) })
	if _, err := cget(t, c.node("n1"), loc, getOpts(3, 0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("r=all read once the corrupt copy is gone: %v, want not found", err)
	}
	v := c.node(vn.Node).local
	id, _ := v.treeOf(loc.Bytes())
	if h, err := v.indexEntry(vn.Partition, id, antientropy.SegmentOf(loc.Bytes(), v.trees.segments), loc.Bytes()); err != nil || h != 0 {
		t.Fatalf("index entry of the deleted copy: %x, %v; want none", h, err)
	}
}

// An exchange that finds a corrupt copy here and nothing on the peer
// deletes the copy; one of a newer version, which a newer cairn can read,
// is kept, and so is it by the verify pass.
func TestAAEExchangeDropsOnlyACorruptCopy(t *testing.T) {
	c := newTestCluster(t, 3)
	locs := keysOf(c.ring, "lone", 2, nil)
	writeKeys(t, c, "n1", locs)
	ctx := context.Background()
	for i, loc := range locs {
		prims := c.primaries(loc)
		vn, peer := prims[1], prims[2]
		c.leaveAlone(t, loc, vn)
		n := c.node(vn.Node)
		corrupt := i == 0
		if corrupt {
			c.damage(t, vn, loc, flipMiddle)
		} else {
			c.damage(t, vn, loc, func(raw []byte) { raw[0] = 0xfe }) // a version this build does not know
		}
		fixed, err := n.aae.repairKey(ctx, vn, peer, loc.Bytes(), &exchangeCost{})
		if err != nil {
			t.Fatal(err)
		}
		if !corrupt {
			if _, err := n.local.verifyKey(vn.Partition, loc.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
		_, err = n.eng.Get(store.Partition(vn.Partition), loc.Bytes())
		if gone := errors.Is(err, store.ErrNotFound); fixed != corrupt || gone != corrupt {
			t.Fatalf("corrupt %v: the exchange reported a fix %v and the copy is gone %v (%v); want both %v", corrupt, fixed, gone, err, corrupt)
		}
	}
}

// Incremental tree updates through every write path give the trees a
// rebuild from the index gives.
func TestAAETreesMatchARebuild(t *testing.T) {
	c := newTestCluster(t, 3)
	locs := keysOf(c.ring, "same", 300, nil)
	writeKeys(t, c, "n1", locs)
	c.tr.Partition([]string{"n1"}, []string{"n3"})
	for i, l := range locs[:100] {
		if i%3 == 0 {
			if err := c.node("n2").Delete(context.Background(), l, DefaultDeleteOptions()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := cput(t, c.node("n2"), l, "again", putOpts(2, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c.tr.Heal()
	for _, l := range locs[100:150] {
		if _, err := cget(t, c.node("n3"), l, getOpts(3, 0)); err != nil {
			t.Fatal(err) // read repair writes too
		}
	}
	c.idle()
	for _, id := range c.ids {
		v := c.node(id).local
		for p := range testRingSize {
			before := treeRoots(v.trees, p)
			if err := v.rebuildTrees(p); err != nil {
				t.Fatal(err)
			}
			if after := treeRoots(v.trees, p); !maps.Equal(before, after) {
				t.Fatalf("%s vnode %d: incremental roots %v, rebuilt %v", id, p, before, after)
			}
		}
	}
}

func treeRoots(ts *trees, p int) map[treeID]uint64 {
	out := map[treeID]uint64{}
	for _, id := range ts.ids(p) {
		if r := ts.get(p, id, false).Root(); r != 0 {
			out[id] = r
		}
	}
	return out
}

// The cost of an exchange follows the number of differing keys, not the
// number stored: with 100k keys in a vnode's tree and 10 differing, the
// exchange reads and sends data for about those 10; with none differing,
// it sends only the root comparison.
func TestAAEExchangeCostFollowsDivergence(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k keys into two vnodes")
	}
	const stored, differing = 100_000, 10
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.AAE.Segments = antientropy.DefaultConfig().Segments })
	p := c.ring.PartitionsOf("n1")[0]
	pl := c.ring.PreflistFor(p, 3)
	self, peer := pl[0], pl[1]
	locs := keysOf(c.ring, "cost", stored, func(q int) bool { return q == p })
	ctx := context.Background()
	for i, l := range locs {
		obj := object.New().Update(object.Context{}, object.Content{Value: fmt.Appendf(nil, "value %d", i), ContentType: "text/plain"}, actor(self))
		for _, vn := range []ring.VNode{self, peer} {
			if _, err := c.node(vn.Node).local.PutReplica(ctx, vn, l.Bytes(), obj, ReplicaWrite{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range c.ids {
		a := c.node(id).aae
		a.mu.Lock()
		clear(a.unbuilt)
		a.mu.Unlock()
	}
	id := antientropy.ExchangeID{Partition: self.Partition, Peer: peer.Node, PeerPartition: peer.Partition, Primary: p, N: 3}
	a := c.node(self.Node).aae
	before := c.tr.Stats()
	r := a.run(ctx, id)
	if r.Err != nil || r.Repaired != 0 || r.KeysCompared != 0 {
		t.Fatalf("identical vnodes: %+v", r)
	}
	// One request and its reply.
	if msgs := c.tr.Stats().Delivered - before.Delivered; msgs != 2 || r.Bytes > 64 {
		t.Fatalf("identical vnodes: %d messages, %d bytes; want the root comparison only", msgs, r.Bytes)
	}
	t.Logf("identical vnodes of %d keys: one round trip, %d bytes", stored, r.Bytes)
	// 10 keys differ: 4 missing here, 3 missing there, 3 with a newer
	// write there.
	for i, l := range locs[:differing] {
		switch {
		case i < 4:
			if _, err := c.node(self.Node).local.dropIfUnchanged(self.Partition, l.Bytes(), c.stored(self, l)); err != nil {
				t.Fatal(err)
			}
		case i < 7:
			if _, err := c.node(peer.Node).local.dropIfUnchanged(peer.Partition, l.Bytes(), c.stored(peer, l)); err != nil {
				t.Fatal(err)
			}
		default:
			cur := c.stored(peer, l)
			next := cur.Update(cur.Context(), object.Content{Value: []byte("newer"), ContentType: "text/plain"}, actor(peer))
			if _, err := c.node(peer.Node).local.PutReplica(ctx, peer, l.Bytes(), next, ReplicaWrite{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r = a.run(ctx, id)
	if r.Err != nil || r.Repaired != differing {
		t.Fatalf("10 differing keys: %+v", r)
	}
	// Each differing key drags in its segment's other entries, on both
	// sides: about stored/segments of them. Three times that is the bound.
	perSegment := stored / a.cfg.Segments
	if limit := differing * 2 * 3 * (perSegment + 1); r.KeysCompared > limit {
		t.Fatalf("compared %d keys for %d differing among %d; want at most %d", r.KeysCompared, differing, stored, limit)
	}
	if limit := 64 << 10; r.Bytes > limit {
		t.Fatalf("exchange moved %d bytes for %d differing keys; want at most %d", r.Bytes, differing, limit)
	}
	t.Logf("10 of %d keys differing: %d keys compared, %d bytes, %d repaired", stored, r.KeysCompared, r.Bytes, r.Repaired)
	// Only the two vnodes of this exchange were written; the third
	// primary is for its own exchanges.
	for _, l := range locs[:differing] {
		if !object.Equal(c.stored(self, l), c.stored(peer, l)) {
			t.Fatalf("%v still differs after the exchange", l)
		}
	}
	r = a.run(ctx, id)
	if r.Repaired != 0 || r.KeysCompared != 0 {
		t.Fatalf("after repair: %+v", r)
	}
}

// Disabling anti-entropy stops a node's exchanges and makes it refuse its
// peers'; the setting survives a restart.
func TestAAEDisableAndWindow(t *testing.T) {
	c := newTestCluster(t, 3)
	off := false
	st, err := c.node("n3").ControlAAE(context.Background(), antientropy.Control{Enabled: &off})
	if err != nil || st.Enabled {
		t.Fatalf("disable: %+v %v", st, err)
	}
	bad := "25:00-26:00"
	if _, err := c.node("n3").ControlAAE(context.Background(), antientropy.Control{Window: &bad}); err == nil {
		t.Fatal("a bad window was accepted")
	}
	p := c.ring.PartitionsOf("n1")[0]
	pl := c.ring.PreflistFor(p, 3)
	var toN3 ring.VNode
	for _, vn := range pl[1:] {
		if vn.Node == "n3" {
			toN3 = vn
		}
	}
	if toN3.Node == "" {
		t.Fatal("the test ring puts n3 outside this preference list: pick another partition")
	}
	for _, id := range c.ids {
		a := c.node(id).aae
		a.mu.Lock()
		clear(a.unbuilt)
		a.mu.Unlock()
	}
	r := c.node(pl[0].Node).aae.run(context.Background(), antientropy.ExchangeID{Partition: pl[0].Partition, Peer: "n3", PeerPartition: toN3.Partition, Primary: p, N: 3})
	if r.Err == nil {
		t.Fatal("a disabled node answered an exchange")
	}
	top := c.node("n3").Topology()
	n3 := c.restartNode("n3", top)
	if st, _ := n3.AAEStatus(context.Background()); st.Enabled {
		t.Fatal("disabled anti-entropy came back enabled after a restart")
	}
	win := "01:00-02:00"
	on := true
	st, err = n3.ControlAAE(context.Background(), antientropy.Control{Enabled: &on, Window: &win})
	if err != nil || !st.Enabled || st.Window != win {
		t.Fatalf("enable with window: %+v %v", st, err)
	}
}

// Exchanges pause for a vnode that is being handed off.
func TestAAECandidatesSkipMovingVnodes(t *testing.T) {
	c := newTestCluster(t, 3)
	n1 := c.node("n1")
	for _, id := range c.ids {
		a := c.node(id).aae
		a.mu.Lock()
		clear(a.unbuilt)
		a.mu.Unlock()
	}
	p := c.ring.PartitionsOf("n1")[0]
	has := func(ids []antientropy.ExchangeID) bool {
		return slices.ContainsFunc(ids, func(id antientropy.ExchangeID) bool { return id.Partition == p })
	}
	n1.aae.mu.Lock()
	before := n1.aae.candidates(n1.routing.Load())
	n1.aae.mu.Unlock()
	if !has(before) {
		t.Fatalf("no exchange for owned vnode %d", p)
	}
	top := n1.Topology()
	top.Pending = []Transfer{{Partition: p, From: "n1", To: "n2"}}
	if err := n1.SetTopology(top); err != nil {
		t.Fatal(err)
	}
	n1.aae.mu.Lock()
	after := n1.aae.candidates(n1.routing.Load())
	n1.aae.mu.Unlock()
	if has(after) {
		t.Fatalf("vnode %d is moving but still exchanges", p)
	}
}
