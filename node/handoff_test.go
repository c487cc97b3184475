package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// Scenario tests of the handoff loop (RunHandoff) on the in-process
// cluster. Loops run on the fake clock with an hour's interval, so they
// scan for hints when woken or when the topology changes, and retry a
// failed transfer only when the test moves the clock past its backoff.

// waitLimit bounds every wait. The events waited for take milliseconds;
// the margin is for a loaded 2-core machine under the race detector.
const waitLimit = time.Minute

// waitFor polls cond, yielding between polls, until it holds. Every so
// often it calls nudge (when not nil) to prod loops that act only when
// told: a wake, or the fake clock moved past a retry.
func waitFor(t *testing.T, what string, cond func() bool, nudge func()) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for i := 1; !cond(); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		if nudge != nil && i%256 == 0 {
			nudge()
		}
		runtime.Gosched()
	}
}

// handoffLoops are the RunHandoff loops a test runs, one per node, each
// stoppable on its own; the test's cleanup stops those still running,
// before the cluster closes its nodes.
type handoffLoops struct {
	mu      sync.Mutex
	running map[string]func()
}

func (c *testCluster) runHandoff(ids []string, complete func(context.Context, Transfer) error) *handoffLoops {
	l := &handoffLoops{running: map[string]func(){}}
	for _, id := range ids {
		l.start(c.node(id).Node, complete)
	}
	c.t.Cleanup(l.stopAll)
	return l
}

func (l *handoffLoops) start(n *Node, complete func(context.Context, Transfer) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunHandoff(ctx, time.Hour, complete)
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running[n.ID()] = func() {
		cancel()
		<-done
	}
}

func (l *handoffLoops) stop(id string) {
	l.mu.Lock()
	stop := l.running[id]
	delete(l.running, id)
	l.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (l *handoffLoops) stopAll() {
	l.mu.Lock()
	ids := slices.Collect(maps.Keys(l.running))
	l.mu.Unlock()
	for _, id := range ids {
		l.stop(id)
	}
}

func (c *testCluster) wakeAll() {
	for _, id := range c.ids {
		c.node(id).WakeHandoff()
	}
}

// nudgeHandoff wakes every loop, after moving the fake clock past the
// backoff of any transfer waiting for its retry.
func (c *testCluster) nudgeHandoff() {
	for _, id := range c.ids {
		n := c.node(id)
		if slices.ContainsFunc(n.LocalTransfers(), func(st handoff.Status) bool { return st.State == handoff.Retrying }) {
			c.clock.Advance(n.cfg.Handoff.MaxBackoff)
			break
		}
	}
	c.wakeAll()
}

// foreign lists the vnodes where a node holds data under a partition its
// ring says it does not own: hints, or copies left behind by a move.
func (c *testCluster) foreign() []ring.VNode {
	var out []ring.VNode
	for _, id := range c.ids {
		n := c.node(id)
		r := n.Ring()
		for p := range r.Size() {
			if r.Owner(p) != id && n.holdsAny(p) {
				out = append(out, ring.VNode{Partition: p, Node: id})
			}
		}
	}
	return out
}

// waitNoForeign waits until every node has handed off what it holds for
// others, waking the loops now and then: a loop rescans for hints only
// when woken (or at its interval, which these tests never reach).
func (c *testCluster) waitNoForeign() {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for i := 1; len(c.foreign()) > 0; i++ {
		if time.Now().After(deadline) {
			var transfers []string
			for _, id := range c.ids {
				for _, st := range c.node(id).LocalTransfers() {
					transfers = append(transfers, fmt.Sprintf("%s %s keys=%d attempts=%d err=%q", st.ID, st.State, st.Keys, st.Attempts, st.LastError))
				}
			}
			c.t.Fatalf("gave up waiting for the nodes to hand off what they do not own: still held %v; transfers %v", c.foreign(), transfers)
		}
		if i%256 == 0 {
			c.nudgeHandoff()
		}
		runtime.Gosched()
	}
	// One more scan, so that no loop keeps offering what it has delivered.
	c.wakeAll()
}

// restartNode replaces node id with a new Node over the same engine, the
// same liveness view and the same address, routing by top: a process
// restart that keeps its data. Stop its handoff loop first.
func (c *testCluster) restartNode(id string, top Topology) *clusterNode {
	c.t.Helper()
	old := c.node(id)
	if err := old.Close(); err != nil {
		c.t.Fatal(err)
	}
	n, err := NewClustered(old.cfg, old.eng, c.md, c.tr.Host(id), old.view)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := n.SetTopology(top); err != nil {
		c.t.Fatal(err)
	}
	c.tr.Listen(id, n.HandleRPC)
	cn := &clusterNode{Node: n, eng: old.eng, view: old.view}
	c.nodes[id] = cn
	return cn
}

// keysOf returns count locations of bucket whose partition under r
// satisfies match (nil: any).
func keysOf(r *ring.Ring, bucket string, count int, match func(p int) bool) []Location {
	var out []Location
	for i := 0; len(out) < count; i++ {
		l := Location{Type: DefaultType, Bucket: bucket, Key: fmt.Sprintf("k%05d", i)}
		if match == nil || match(r.PartitionOf(l.Bytes())) {
			out = append(out, l)
		}
	}
	return out
}

// preload stores an object with value val(i) for each of locs straight
// in vnode vn, as if earlier writes had put it there.
func (c *testCluster) preload(vn ring.VNode, locs []Location, val func(i int) string) {
	c.t.Helper()
	for i, l := range locs {
		obj := object.New().Update(object.Context{}, object.Content{Value: []byte(val(i)), ContentType: "text/plain"}, actor(vn))
		if _, err := c.node(vn.Node).local.PutReplica(context.Background(), vn, l.Bytes(), obj, ReplicaWrite{}); err != nil {
			c.t.Fatal(err)
		}
	}
}

// workerRunning reports whether n has a worker streaming transfer id.
func workerRunning(n *Node, id handoff.ID) bool {
	n.handoff.mu.Lock()
	defer n.handoff.mu.Unlock()
	_, ok := n.handoff.workers[id]
	return ok
}

// statusString spells the parts of a transfer's status the tests check.
func statusString(st handoff.Status) string {
	return fmt.Sprintf("%s %s keys=%d/%d attempts=%d err=%q", st.ID, st.State, st.Keys, st.TotalKeys, st.Attempts, st.LastError)
}

// localStatus is n's own view of transfer id (ok false: none).
func localStatus(n *Node, id handoff.ID) (handoff.Status, bool) {
	for _, st := range n.LocalTransfers() {
		if st.ID == id {
			return st, true
		}
	}
	return handoff.Status{}, false
}

// fakePlane is a tiny metadata plane: it holds the committed ring and the
// moves in progress and pushes both to every node, as the Raft watcher
// does; complete commits a finished move, as the handoff runner's
// callback does through Raft.
type fakePlane struct {
	t     testing.TB
	cfg   ring.Config
	addrs map[string]string

	mu      sync.Mutex
	nodes   map[string]*Node
	ring    *ring.Ring
	pending []Transfer
}

func newFakePlane(c *testCluster, r *ring.Ring) *fakePlane {
	f := &fakePlane{t: c.t, cfg: ring.Config{Size: testRingSize}, addrs: c.addrs(), nodes: map[string]*Node{}, ring: r}
	for _, id := range c.ids {
		f.nodes[id] = c.node(id).Node
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushLocked()
	return f
}

func (f *fakePlane) topology() Topology {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Topology{Ring: f.ring, Pending: slices.Clone(f.pending), Addrs: maps.Clone(f.addrs)}
}

func (f *fakePlane) pushLocked() {
	top := Topology{Ring: f.ring, Pending: f.pending, Addrs: f.addrs}
	for _, n := range f.nodes {
		if err := n.SetTopology(top); err != nil {
			f.t.Errorf("set topology on %s: %v", n.ID(), err)
		}
	}
}

// setNode makes the plane push to n (a restarted node) from now on.
func (f *fakePlane) setNode(n *Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[n.ID()] = n
}

// propose commits the moves from the current ring to next.
func (f *fakePlane) propose(next *ring.Ring) []Transfer {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ring.Moves(f.ring, next) {
		f.pending = append(f.pending, Transfer{Partition: m.Partition, From: m.From, To: m.To})
	}
	f.pushLocked()
	return slices.Clone(f.pending)
}

// complete commits a finished move: the receiver owns the partition.
func (f *fakePlane) complete(_ context.Context, tr Transfer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.Index(f.pending, tr)
	if i < 0 {
		return fmt.Errorf("fake plane: %+v is not pending", tr)
	}
	owners := f.ring.Owners()
	owners[tr.Partition] = tr.To
	next, err := ring.New(f.cfg, owners, f.ring.Epoch()+1)
	if err != nil {
		return err
	}
	f.ring = next
	f.pending = slices.Delete(f.pending, i, i+1)
	f.pushLocked()
	return nil
}

func (f *fakePlane) pendingCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

func (f *fakePlane) current() *ring.Ring {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ring
}

// moveOne is the ring where partition p belongs to to instead.
func moveOne(t *testing.T, r *ring.Ring, p int, to string) *ring.Ring {
	t.Helper()
	owners := r.Owners()
	owners[p] = to
	next, err := ring.New(ring.Config{Size: r.Size()}, owners, r.Epoch()+1)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// ack is a write the cluster acknowledged.
type ack struct {
	loc Location
	val string
}

// background runs step(0), step(1), ... on a goroutine until halted, at
// most limit times, or until a step fails.
type background struct {
	t    *testing.T
	ops  atomic.Int64 // steps done
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error // read after done is closed

	mu   sync.Mutex
	tick chan struct{} // closed and replaced at every step done
}

func runBackground(t *testing.T, limit int, step func(i int) error) *background {
	b := &background{t: t, stop: make(chan struct{}), done: make(chan struct{}), tick: make(chan struct{})}
	go func() {
		defer close(b.done)
		for i := range limit {
			select {
			case <-b.stop:
				return
			default:
			}
			if err := step(i); err != nil {
				b.err = err
				return
			}
			b.mu.Lock()
			b.ops.Add(1)
			close(b.tick)
			b.tick = make(chan struct{})
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = b.halt() })
	return b
}

// wait waits until n more steps are done, calling nudge now and then.
func (b *background) wait(n int64, nudge func()) {
	b.t.Helper()
	target := b.ops.Load() + n
	waitFor(b.t, fmt.Sprintf("%d more requests", n), func() bool {
		select {
		case <-b.done:
			return true
		default:
			return b.ops.Load() >= target
		}
	}, nudge)
	if b.ops.Load() < target {
		b.t.Fatalf("background requests ended after %d: %v", b.ops.Load(), b.err)
	}
}

// pace blocks until n more steps are done, the goroutine has ended or
// ctx is done: a handler that calls it lets requests through between the
// batches it serves.
func (b *background) pace(ctx context.Context, n int64) {
	target := b.ops.Load() + n
	for {
		b.mu.Lock()
		tick, ops := b.tick, b.ops.Load()
		b.mu.Unlock()
		if ops >= target {
			return
		}
		select {
		case <-tick:
		case <-b.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// halt stops the goroutine, waits for it and returns its error.
func (b *background) halt() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return b.err
}

// writeAll writes every loc once with w=2, through every node in turn,
// and returns the acknowledged writes.
func writeAll(t *testing.T, c *testCluster, locs []Location, prefix string) []ack {
	t.Helper()
	var acked []ack
	for i, l := range locs {
		val := fmt.Sprintf("%s%d", prefix, i)
		if _, err := cput(t, c.node(c.ids[i%len(c.ids)]), l, val, putOpts(2, 0, 0)); err != nil {
			t.Fatalf("put %v: %v", l, err)
		}
		acked = append(acked, ack{l, val})
	}
	c.idle()
	return acked
}

// checkOnPrimaries fails unless every primary of each acknowledged write
// holds it.
func checkOnPrimaries(t *testing.T, c *testCluster, acked []ack) {
	t.Helper()
	for _, a := range acked {
		for _, vn := range c.primaries(a.loc) {
			if o := c.stored(vn, a.loc); !slices.Contains(values(o), a.val) {
				t.Fatalf("%s holds %v for %v, want %s among them", vnodeName(vn), values(o), a.loc, a.val)
			}
		}
	}
}

func handoffTotals(c *testCluster) (hints, objects uint64) {
	for _, id := range c.ids {
		s := c.node(id).Stats()
		hints += s.HintsHandedOff
		objects += s.HandoffObjects
	}
	return hints, objects
}

// A primary is down while 200 writes with w=2 go on, so fallbacks take
// its replicas. When it is back, the handoff loops deliver every hint and
// the fallbacks let go of theirs.
func TestHandoffHintsToReturningPrimary(t *testing.T) {
	c := newTestCluster(t, 5)
	down := "n2"
	c.stop(down)
	acked := writeAll(t, c, keysOf(c.ring, "b", 200, nil), "v")
	if len(c.foreign()) == 0 {
		t.Fatal("no fallback holds a hint")
	}
	c.runHandoff(c.ids, nil)
	c.start(down)
	c.wakeAll()
	c.waitNoForeign()
	for _, a := range acked {
		for _, vn := range c.primaries(a.loc) {
			if o := c.stored(vn, a.loc); !slices.Equal(values(o), []string{a.val}) {
				t.Fatalf("%s holds %v for %v, want [%s]", vnodeName(vn), values(o), a.loc, a.val)
			}
		}
	}
	hints, objects := handoffTotals(c)
	if hints == 0 || objects < hints {
		t.Fatalf("hints handed off %d, handoff objects %d", hints, objects)
	}
}

// A fallback restarts (a new Node over the same engine) while it holds
// hints for a primary that is down: the hints are its data, so they
// survive, and the new process delivers them when the primary is back.
func TestHandoffHintsSurviveFallbackRestart(t *testing.T) {
	c := newTestCluster(t, 5)
	down := "n2"
	c.stop(down)
	acked := writeAll(t, c, keysOf(c.ring, "b", 200, nil), "v")
	held := map[string]int{}
	for _, vn := range c.foreign() {
		held[vn.Node]++
	}
	if len(held) == 0 {
		t.Fatal("no fallback holds a hint")
	}
	loops := c.runHandoff(c.ids, nil)
	top := c.node("n1").Topology()
	for id := range held {
		loops.stop(id)
		n := c.restartNode(id, top)
		loops.start(n.Node, nil)
	}
	if len(c.foreign()) == 0 {
		t.Fatal("the restarted fallbacks lost their hints")
	}
	c.start(down)
	c.wakeAll()
	c.waitNoForeign()
	checkOnPrimaries(t, c, acked)
	for id := range held {
		if got := c.node(id).Stats().HintsHandedOff; got == 0 {
			t.Errorf("restarted %s handed off no hint", id)
		}
	}
}

// Writes to the keys being handed off go on during delivery, with and
// without a causal context, and some reach the fallback's copy after it
// was sent: the coordinator's gossip still says the primary is down while
// the fallback's already says it is up. No acknowledged value is lost:
// each is still there as a sibling, or was superseded by a write of ours
// whose context had seen it.
func TestHandoffConcurrentWritesDuringDelivery(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = 4 })
	down := "n2"
	// Keys with a replica on n2, grouped by their first up primary (the
	// coordinator when written through it) and the fallback that stands
	// in for n2: the largest group is the one written.
	type role struct{ coord, fallback string }
	groups := map[role][]Location{}
	for _, l := range keysOf(c.ring, "b", 2000, nil) {
		var r role
		for _, e := range c.ring.PreflistWithFallbacks(c.ring.PartitionOf(l.Bytes()), 3, func(n string) bool { return n != down }) {
			switch {
			case e.Role == ring.Fallback:
				r.fallback = e.Node
			case r.coord == "":
				r.coord = e.Node
			}
		}
		if r.fallback != "" {
			groups[r] = append(groups[r], l)
		}
	}
	var grp role
	for r, ls := range groups {
		if len(ls) > len(groups[grp]) || len(ls) == len(groups[grp]) && r.coord+r.fallback < grp.coord+grp.fallback {
			grp = r
		}
	}
	locs := groups[grp]
	if len(locs) < 60 {
		t.Fatalf("only %d keys coordinated by %s with %s as fallback", len(locs), grp.coord, grp.fallback)
	}
	locs = locs[:60]
	coord, fallback := c.node(grp.coord), c.node(grp.fallback)

	// must holds, per key, the acknowledged values that no write of ours
	// may have superseded.
	var mu sync.Mutex
	must := map[Location]map[string]bool{}
	c.stop(down)
	for i, l := range locs {
		val := fmt.Sprintf("init%d", i)
		if _, err := cput(t, coord, l, val, putOpts(2, 0, 0)); err != nil {
			t.Fatal(err)
		}
		must[l] = map[string]bool{val: true}
	}
	c.idle()
	if !slices.ContainsFunc(c.foreign(), func(vn ring.VNode) bool { return vn.Node == fallback.ID() }) {
		t.Fatalf("fallback %s holds no hint", fallback.ID())
	}
	c.runHandoff(c.ids, nil)

	writes := runBackground(t, 5000, func(i int) error {
		l := locs[i%len(locs)]
		val := fmt.Sprintf("w%d", i)
		if i%2 == 0 {
			if _, err := cput(t, coord, l, val, putOpts(2, 0, 0)); err != nil {
				return fmt.Errorf("blind put %v: %w", l, err)
			}
			mu.Lock()
			must[l][val] = true
			mu.Unlock()
			return nil
		}
		cur, err := cget(t, coord, l, getOpts(2, 0))
		if err != nil {
			return fmt.Errorf("get %v: %w", l, err)
		}
		opts := putOpts(2, 0, 0)
		opts.Context = cur.Context()
		_, err = cput(t, coord, l, val, opts)
		mu.Lock()
		defer mu.Unlock()
		// Acknowledged or not, the write may supersede what it read.
		for _, v := range values(cur) {
			delete(must[l], v)
		}
		if err != nil {
			return fmt.Errorf("put with context %v: %w", l, err)
		}
		must[l][val] = true
		return nil
	})

	// The primary is back and every node but the coordinator knows it: the
	// fallback hands off while it still takes the coordinator's writes.
	// The first batches it sends are overtaken by a write to their first
	// key, which reaches the fallback's copy after it was sent.
	writes.wait(20, nil)
	primary := c.node(down)
	var overtaken atomic.Int32
	c.tr.Listen(down, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		var req batchReq
		if method == methodBatch && overtaken.Load() < 5 && decodeMsg(body, &req) == nil {
			l, err := ParseLocation(req.Entries[0].Key)
			if err != nil {
				return nil, err
			}
			val := fmt.Sprintf("overtaking%d", overtaken.Add(1))
			// w=3: the fallback holds it when the batch goes on.
			if _, err := cput(t, coord, l, val, putOpts(3, 0, 0)); err != nil {
				return nil, err
			}
			mu.Lock()
			must[l][val] = true
			mu.Unlock()
		}
		return primary.HandleRPC(ctx, method, body)
	})
	for _, id := range c.ids {
		if id != coord.ID() {
			c.node(id).view.Set(down, true)
		}
	}
	c.wakeAll()
	waitFor(t, "hints handed off while the coordinator still writes to the fallback", func() bool {
		return fallback.Stats().HintsHandedOff > 0
	}, c.wakeAll)
	writes.wait(60, c.wakeAll)
	// Now the coordinator learns it too.
	coord.view.Set(down, true)
	writes.wait(40, c.wakeAll)
	if err := writes.halt(); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.waitNoForeign()

	for _, l := range locs {
		got, err := cget(t, c.node(c.outside(l)), l, getOpts(3, 3))
		if err != nil {
			t.Fatalf("get %v with r=3 pr=3: %v", l, err)
		}
		for v := range must[l] {
			if !slices.Contains(values(got), v) {
				t.Fatalf("acknowledged %s at %v lost: read %v", v, l, values(got))
			}
		}
	}
}

// The cluster grows from 3 to 4 to 5 members and shrinks back to 3 while
// writes and reads go on. Each step commits the moves of the next claim;
// the handoff loops copy each partition to its next owner and commit it
// through a fake metadata plane. At the end, once the old owners' drop
// grace has passed and they have handed off what they kept, every
// acknowledged write is on every vnode of its preference list and reads
// back with r=3 pr=3, and no node holds data for a partition it does not
// own.
func TestHandoffOwnershipGrowShrink(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = 8 })
	rcfg := ring.Config{Size: testRingSize}
	r0, err := ring.Claim(rcfg, nil, c.ids[:3], 3)
	if err != nil {
		t.Fatal(err)
	}
	plane := newFakePlane(c, r0)
	c.ring = r0
	// Every batch a node receives waits for a request of the traffic below
	// to complete first, so that requests interleave with the moves.
	var paced atomic.Pointer[background]
	for _, id := range c.ids {
		n := c.node(id)
		c.tr.Listen(id, func(ctx context.Context, method string, body []byte) ([]byte, error) {
			if b := paced.Load(); b != nil && method == methodBatch {
				b.pace(ctx, 1)
			}
			return n.HandleRPC(ctx, method, body)
		})
	}
	locs := keysOf(r0, "grow", 400, nil)
	var mu sync.Mutex
	acked := writeAll(t, c, locs, "pre")
	c.runHandoff(c.ids, plane.complete)

	var staleReads atomic.Int64
	traffic := runBackground(t, 20000, func(i int) error {
		n := c.node(c.ids[i%len(c.ids)])
		if i%3 == 2 {
			mu.Lock()
			a := acked[(i*7919)%len(acked)]
			mu.Unlock()
			got, err := cget(t, n, a.loc, getOpts(2, 0))
			switch {
			case errors.Is(err, ErrNotFound):
				staleReads.Add(1)
			case err != nil:
				return fmt.Errorf("get %v r=2 via %s: %w", a.loc, n.ID(), err)
			case !slices.Contains(values(got), a.val):
				staleReads.Add(1)
			}
			return nil
		}
		l := locs[i%len(locs)]
		val := fmt.Sprintf("w%d", i)
		if _, err := cput(t, n, l, val, putOpts(2, 0, 0)); err != nil {
			return fmt.Errorf("put %v w=2 via %s: %w", l, n.ID(), err)
		}
		mu.Lock()
		acked = append(acked, ack{l, val})
		mu.Unlock()
		return nil
	})
	paced.Store(traffic)

	moves := 0
	for _, members := range [][]string{c.ids[:4], c.ids[:5], c.ids[:3]} {
		traffic.wait(30, nil)
		next, err := ring.Claim(rcfg, plane.current(), members, 3)
		if err != nil {
			t.Fatal(err)
		}
		pending := plane.propose(next)
		if len(pending) == 0 {
			t.Fatalf("no move from %v to %v", plane.current().Members(), members)
		}
		moves += len(pending)
		waitFor(t, fmt.Sprintf("the moves to %v", members), func() bool { return plane.pendingCount() == 0 }, nil)
		if got := plane.current().Members(); !slices.Equal(got, members) {
			t.Fatalf("members %v after the moves, want %v", got, members)
		}
	}
	traffic.wait(30, nil)
	if err := traffic.halt(); err != nil {
		t.Fatal(err)
	}
	c.idle()

	// The old owners keep their copies for the drop grace, then hand them
	// off and drop them.
	c.clock.Advance(c.node("n1").cfg.Handoff.DropGrace)
	c.wakeAll()
	c.waitNoForeign()
	c.ring = plane.current()
	checkOnPrimaries(t, c, acked)
	latest := map[Location]*object.Object{}
	for _, a := range acked {
		got, ok := latest[a.loc]
		if !ok {
			if got, err = cget(t, c.node(c.ids[0]), a.loc, getOpts(3, 3)); err != nil {
				t.Fatalf("get %v r=3 pr=3: %v", a.loc, err)
			}
			latest[a.loc] = got
		}
		if !slices.Contains(values(got), a.val) {
			t.Fatalf("acknowledged %s at %v lost: read %v", a.val, a.loc, values(got))
		}
	}
	var transfers uint64
	for _, id := range c.ids {
		transfers += c.node(id).Stats().Transfers
	}
	var failures uint64
	for _, id := range c.ids {
		failures += c.node(id).Stats().HandoffFailures
	}
	t.Logf("%d moves, %d counted, %d failures; %d requests, %d stale reads during the moves", moves, transfers, failures, traffic.ops.Load(), staleReads.Load())
}

// moveTarget returns partition p's owner and another node to move it to.
func moveTarget(c *testCluster, p int) (from, to string) {
	from = c.ring.Owner(p)
	for _, id := range c.ids {
		if id != from {
			return from, id
		}
	}
	c.t.Fatal("a cluster of one")
	return "", ""
}

// A partition of 2000 objects moves in batches of 50; the receiver dies
// after applying a batch but before answering. The sender retries after
// its backoff and resumes after the last batch the receiver acknowledged,
// so it sends each object about once, and the receiver ends with all.
func TestHandoffResumesAfterReceiverRestart(t *testing.T) {
	const count, batch = 2000, 50
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = batch })
	p := 3
	from, to := moveTarget(c, p)
	locs := keysOf(c.ring, "many", count, func(q int) bool { return q == p })
	c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })

	// The receiver applies its 8th batch, then dies before answering.
	recv := c.node(to)
	var batches atomic.Int32
	died := make(chan struct{})
	c.tr.Listen(to, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		out, err := recv.HandleRPC(ctx, method, body)
		if method == methodBatch && batches.Add(1) == 8 {
			close(died)
			<-ctx.Done() // the host stops: the answer never leaves
			return nil, ctx.Err()
		}
		return out, err
	})

	plane := newFakePlane(c, c.ring)
	c.runHandoff([]string{from}, plane.complete)
	sender := c.node(from)
	plane.propose(moveOne(t, c.ring, p, to))
	id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	waitFor(t, "the 8th batch", func() bool {
		select {
		case <-died:
			return true
		default:
			return false
		}
	}, nil)
	c.tr.Stop(to)
	var st handoff.Status
	waitFor(t, "the transfer to fail and wait for its retry", func() bool {
		var ok bool
		st, ok = localStatus(sender.Node, id)
		return ok && st.State == handoff.Retrying
	}, nil)
	if st.Keys != 7*batch || st.TotalKeys != count || st.LastError == "" {
		t.Fatalf("after the receiver died: %s, want %d keys acknowledged of %d", statusString(st), 7*batch, count)
	}
	raw, err := sender.eng.Get(localPartition, []byte(cursorPrefix+id.String()))
	var saved savedCursor
	if err != nil || decodeMsg(raw, &saved) != nil || saved.Keys != 7*batch || len(saved.Cursor) == 0 {
		t.Fatalf("saved cursor %+v, %v; want one after %d keys", saved, err, 7*batch)
	}

	c.tr.Listen(to, recv.HandleRPC)
	waitFor(t, "the transfer to resume and complete", func() bool { return plane.pendingCount() == 0 }, func() {
		if st, ok := localStatus(sender.Node, id); ok && st.State == handoff.Retrying {
			c.clock.Advance(sender.cfg.Handoff.MaxBackoff)
		}
		sender.WakeHandoff()
	})
	waitFor(t, "the sender to record the completion", func() bool {
		_, ok := localStatus(sender.Node, id)
		return !ok
	}, nil)
	for i, l := range locs {
		if o := c.stored(ring.VNode{Partition: p, Node: to}, l); !slices.Equal(values(o), []string{fmt.Sprintf("v%d", i)}) {
			t.Fatalf("receiver holds %v for %v", values(o), l)
		}
	}
	// Hinted handoff counts too: the old owner's copy is a hint once the
	// move is committed.
	stats := sender.Stats()
	if sent := stats.HandoffObjects - stats.HintsHandedOff; sent > count+batch {
		t.Fatalf("sender sent %d objects for a partition of %d: it did not resume from its cursor", sent, count)
	}
	if _, err := sender.eng.Get(localPartition, []byte(cursorPrefix+id.String())); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cursor of a completed transfer still saved: %v", err)
	}
}

// The sender of a move restarts while the move waits for its retry: the
// new process restores the saved cursor and resumes after it.
func TestHandoffResumesAfterSenderRestart(t *testing.T) {
	const count, batch = 400, 20
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = batch })
	p := 5
	from, to := moveTarget(c, p)
	locs := keysOf(c.ring, "restart", count, func(q int) bool { return q == p })
	c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })
	recv := c.node(to)
	var batches atomic.Int32
	c.tr.Listen(to, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == methodBatch && batches.Add(1) > 5 {
			return nil, errors.New("disk full")
		}
		return recv.HandleRPC(ctx, method, body)
	})
	plane := newFakePlane(c, c.ring)
	loops := c.runHandoff([]string{from}, plane.complete)
	plane.propose(moveOne(t, c.ring, p, to))
	id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	waitFor(t, "the transfer to fail after 5 batches", func() bool {
		st, ok := localStatus(c.node(from).Node, id)
		return ok && st.State == handoff.Retrying
	}, nil)

	loops.stop(from)
	sender := c.restartNode(from, plane.topology())
	plane.setNode(sender.Node)
	c.tr.Listen(to, recv.HandleRPC)
	loops.start(sender.Node, plane.complete)
	waitFor(t, "the restarted sender to complete the move", func() bool { return plane.pendingCount() == 0 }, func() {
		if st, ok := localStatus(sender.Node, id); ok && st.State == handoff.Retrying {
			c.clock.Advance(sender.cfg.Handoff.MaxBackoff)
		}
		sender.WakeHandoff()
	})
	if got, want := sender.Stats().HandoffObjects, uint64(count-5*batch); got != want {
		t.Fatalf("restarted sender sent %d objects, want the %d after its cursor", got, want)
	}
	for _, l := range locs {
		if o := c.stored(ring.VNode{Partition: p, Node: to}, l); o == nil {
			t.Fatalf("receiver misses %v", l)
		}
	}
}

// An operator pauses, resumes and cancels a running move through
// ControlTransfer, from the sending node and from another one, and
// watches it through ListTransfers. The receiver admits one batch per
// token, so the transfer goes exactly as far as the test lets it.
func TestHandoffOperatorControl(t *testing.T) {
	const count, batch = 40, 4
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = batch })
	p := 7
	from, to := moveTarget(c, p)
	var observer string
	for _, id := range c.ids {
		if id != from && id != to {
			observer = id
			break
		}
	}
	locs := keysOf(c.ring, "ctl", count, func(q int) bool { return q == p })
	c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })
	sorted := make([]string, len(locs))
	for i, l := range locs {
		sorted[i] = string(l.Bytes())
	}
	slices.Sort(sorted)

	recv := c.node(to)
	tokens := make(chan struct{}, count)
	var (
		mu      sync.Mutex
		arrived []string // the first key of each batch, as it arrives
	)
	arrivals := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(arrived)
	}
	c.tr.Listen(to, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == methodBatch {
			var req batchReq
			if err := decodeMsg(body, &req); err != nil {
				return nil, err
			}
			mu.Lock()
			arrived = append(arrived, string(req.Entries[0].Key))
			mu.Unlock()
			select {
			case <-tokens:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return recv.HandleRPC(ctx, method, body)
	})

	plane := newFakePlane(c, c.ring)
	c.runHandoff(c.ids, plane.complete)
	sender, obs := c.node(from), c.node(observer)
	plane.propose(moveOne(t, c.ring, p, to))
	id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	ctx := context.Background()

	listed := func() handoff.Status {
		t.Helper()
		rep, err := obs.ListTransfers(ctx)
		if err != nil || len(rep.Unreachable) > 0 {
			t.Fatalf("list transfers: %v, unreachable %v", err, rep.Unreachable)
		}
		for _, st := range rep.List {
			if st.ID == id {
				return st
			}
		}
		t.Fatalf("%s missing from %v", id, rep.List)
		return handoff.Status{}
	}
	waitArrivals := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("batch %d to reach the receiver", n), func() bool { return len(arrivals()) >= n }, nil)
	}
	waitKeys := func(n uint64) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d keys acknowledged", n), func() bool {
			st, _ := localStatus(sender.Node, id)
			return st.Keys == n
		}, nil)
	}
	waitStopped := func() {
		t.Helper()
		waitFor(t, "the worker to stop", func() bool { return !workerRunning(sender.Node, id) }, nil)
	}

	// Two batches through; the third waits at the receiver.
	tokens <- struct{}{}
	tokens <- struct{}{}
	waitArrivals(3)
	waitKeys(2 * batch)
	if st := listed(); st.State != handoff.Running || st.TotalKeys != count || st.Attempts != 1 {
		t.Fatalf("running transfer listed as %s", st)
	}

	// Pause, through another node: the worker stops, the progress stays.
	if err := obs.ControlTransfer(ctx, id, handoff.Pause); err != nil {
		t.Fatalf("pause: %v", err)
	}
	waitStopped()
	if st := listed(); st.State != handoff.Paused || st.Keys != 2*batch {
		t.Fatalf("paused transfer listed as %s", st)
	}
	for _, via := range []*clusterNode{sender, obs} {
		if err := via.ControlTransfer(ctx, id, "explode"); !errors.Is(err, handoff.ErrBadAction) {
			t.Errorf("unknown action via %s: %v, want ErrBadAction", via.ID(), err)
		}
	}
	// Neither a wake nor the passing of every backoff restarts it.
	c.clock.Advance(sender.cfg.Handoff.MaxBackoff)
	sender.WakeHandoff()
	waitFor(t, "the loop to take the wake", func() bool { return len(sender.handoff.wake) == 0 }, nil)
	if st, _ := localStatus(sender.Node, id); st.State != handoff.Paused || len(arrivals()) != 3 {
		t.Fatalf("paused transfer moved on: %s, %d batches sent", statusString(st), len(arrivals()))
	}

	// Resume, on the sender: it goes on after the last acknowledged batch.
	if err := sender.ControlTransfer(ctx, id, handoff.Resume); err != nil {
		t.Fatalf("resume: %v", err)
	}
	waitArrivals(4)
	if got := arrivals()[3]; got != sorted[2*batch] {
		t.Fatalf("resumed with key %q, want %q, the first after the cursor", got, sorted[2*batch])
	}
	tokens <- struct{}{}
	waitKeys(3 * batch)
	if st := listed(); st.State != handoff.Running || st.Attempts != 2 {
		t.Fatalf("resumed transfer listed as %s", st)
	}

	// Cancel, through another node: progress and cursor are dropped.
	waitArrivals(5)
	if err := obs.ControlTransfer(ctx, id, handoff.Cancel); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	waitStopped()
	if st := listed(); st.State != handoff.Cancelled || st.Keys != 0 {
		t.Fatalf("cancelled transfer listed as %s", st)
	}
	if _, err := sender.eng.Get(localPartition, []byte(cursorPrefix+id.String())); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cursor of a cancelled transfer: %v, want none", err)
	}

	// Resumed after a cancel, it starts over, and completes.
	if err := obs.ControlTransfer(ctx, id, handoff.Resume); err != nil {
		t.Fatalf("resume after cancel: %v", err)
	}
	waitArrivals(6)
	if got := arrivals()[5]; got != sorted[0] {
		t.Fatalf("resumed after cancel with key %q, want the first, %q", got, sorted[0])
	}
	close(tokens)
	waitFor(t, "the move to complete", func() bool { return plane.pendingCount() == 0 }, nil)
	for i, l := range locs {
		if o := c.stored(ring.VNode{Partition: p, Node: to}, l); !slices.Equal(values(o), []string{fmt.Sprintf("v%d", i)}) {
			t.Fatalf("receiver holds %v for %v", values(o), l)
		}
	}
	waitFor(t, "the transfer to leave the list", func() bool {
		_, ok := localStatus(sender.Node, id)
		return !ok
	}, nil)
	for _, via := range []*clusterNode{sender, obs} {
		if err := via.ControlTransfer(ctx, id, handoff.Pause); !errors.Is(err, handoff.ErrNoTransfer) {
			t.Errorf("pause of a finished transfer via %s: %v, want ErrNoTransfer", via.ID(), err)
		}
	}
	stranger := handoff.ID{Kind: handoff.Ownership, Partition: p, From: "n9", To: to}
	if err := obs.ControlTransfer(ctx, stranger, handoff.Pause); !errors.Is(err, handoff.ErrNoTransfer) {
		t.Errorf("transfer from a non-member: %v, want ErrNoTransfer", err)
	}
}

// One wake makes a node deliver every hint it holds, without further
// wakes or ticks, however many partitions they are under and however few
// transfers run at once.
func TestHandoffOneWakeDeliversEveryHint(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.MaxConcurrent = 1 })
	down := "n2"
	c.stop(down)
	writeAll(t, c, keysOf(c.ring, "b", 200, nil), "v")
	holder := ""
	for _, vn := range c.foreign() {
		if n := vn.Node; holder == "" || n < holder {
			holder = n
		}
	}
	parts := 0
	for _, vn := range c.foreign() {
		if vn.Node == holder {
			parts++
		}
	}
	if parts < 3 {
		t.Fatalf("%s holds hints under %d partitions, want 3 or more", holder, parts)
	}
	c.runHandoff([]string{holder}, nil)
	c.start(down)
	n := c.node(holder)
	n.WakeHandoff()
	waitFor(t, "one wake to deliver every hint", func() bool {
		return !slices.ContainsFunc(c.foreign(), func(vn ring.VNode) bool { return vn.Node == holder })
	}, nil)
	n.handoff.mu.Lock()
	completed := n.handoff.sched.Completed()
	n.handoff.mu.Unlock()
	if completed > uint64(2*parts) {
		t.Fatalf("%d hinted transfers completed for %d partitions: finished ones ran again", completed, parts)
	}
}

// lostPartition preloads 40 keys of partition p on its owner, runs the
// owner's handoff loop and moves p to another node on the ring as if its
// copy were done: the old owner no longer owns p and is inside its drop
// grace. It returns the old owner, the new one, the keys and a settle
// func that lets the old owner's loop take two wakes.
func lostPartition(t *testing.T, c *testCluster, p int) (old *clusterNode, to string, locs []Location, settle func()) {
	t.Helper()
	from, to := moveTarget(c, p)
	locs = keysOf(c.ring, "grace", 40, func(q int) bool { return q == p })
	c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })
	plane := newFakePlane(c, c.ring)
	c.runHandoff([]string{from}, nil)
	old = c.node(from)
	settle = func() {
		for range 2 {
			old.WakeHandoff()
			waitFor(t, "the loop to take the wake", func() bool { return len(old.handoff.wake) == 0 }, nil)
		}
	}
	settle()
	plane.mu.Lock()
	plane.ring = moveOne(t, plane.ring, p, to)
	plane.pushLocked()
	plane.mu.Unlock()
	settle()
	return old, to, locs, settle
}

// When a node stops owning a partition, it keeps its copy for the drop
// grace (requests routed by a lagging ring still find the data), then
// hands it off and drops it. Throughout, the copy is listed among the
// node's transfers (in grace, then as hints), so that an operator who stops a node once it lists
// nothing loses no write the copy took.
func TestHandoffOldOwnerKeepsCopyForDropGrace(t *testing.T) {
	c := newTestCluster(t, 5)
	p := 3
	old, to, _, _ := lostPartition(t, c, p)
	if !old.holdsAny(p) || old.Stats().HintsHandedOff != 0 {
		t.Fatalf("old owner handing off partition %d before the drop grace passed: holds %v, handed off %d",
			p, old.holdsAny(p), old.Stats().HintsHandedOff)
	}
	grace := old.cfg.Handoff.DropGrace
	id := handoff.ID{Kind: handoff.Hinted, Partition: p, From: old.ID(), To: to}
	list := old.LocalTransfers()
	if len(list) != 1 || list[0].ID != id || list[0].State != handoff.Grace ||
		list[0].RetryAt != list[0].Since.Add(grace) || list[0].Since.After(c.clock.Now()) {
		t.Fatalf("old owner holding partition %d in its drop grace lists %v, want only %v in grace until the grace ends", p, list, id)
	}
	c.clock.Advance(grace)
	c.waitNoForeign()
	waitFor(t, "the delivered copy to leave the list", func() bool { return len(old.LocalTransfers()) == 0 }, old.WakeHandoff)
}

// Data a node holds for a partition it does not own is listed as a
// hinted transfer even before its handoff loop has scanned for it, so
// that a node listing nothing holds nothing of anyone else's.
func TestHandoffUnscannedHintsListed(t *testing.T) {
	c := newTestCluster(t, 5)
	p := 7
	from, to := moveTarget(c, p) // from owns p; to does not
	c.preload(ring.VNode{Partition: p, Node: to}, keysOf(c.ring, "unscanned", 3, func(q int) bool { return q == p }),
		func(i int) string { return fmt.Sprintf("v%d", i) })
	want := handoff.ID{Kind: handoff.Hinted, Partition: p, From: to, To: from}
	if list := c.node(to).LocalTransfers(); len(list) != 1 || list[0].ID != want || list[0].State != handoff.Waiting {
		t.Fatalf("%s holds 3 keys of %s's partition %d and lists %v, want only %v waiting", to, from, p, list, want)
	}
	if list := c.node(from).LocalTransfers(); len(list) != 0 {
		t.Fatalf("%s holds only its own partitions and lists %v", from, list)
	}
	c.node(to).view.Set(from, false)
	if list := c.node(to).LocalTransfers(); len(list) != 1 || list[0].ID != want || list[0].State != handoff.Held {
		t.Fatalf("%s down: %s lists %v, want only %v held", from, to, list, want)
	}
	// What is listed can be acted on, though no loop has scheduled it:
	// dropped, not paused.
	ctx := context.Background()
	if err := c.node(from).ControlTransfer(ctx, want, handoff.Pause); !errors.Is(err, handoff.ErrBadAction) {
		t.Fatalf("pause of the unscheduled %v: %v, want %v", want, err, handoff.ErrBadAction)
	}
	if err := c.node(from).ControlTransfer(ctx, want, handoff.Drop); err != nil {
		t.Fatalf("drop of the listed %v through %s: %v", want, from, err)
	}
	if c.node(to).holdsAny(p) || len(c.node(to).LocalTransfers()) != 0 {
		t.Fatalf("after the drop %s still holds partition %d (%v) or lists %v", to, p, c.node(to).holdsAny(p), c.node(to).LocalTransfers())
	}
}

// A member lists what it holds against its own ring, so the list names
// the members that answered from an older ring than another's: their
// lists may lack copies of partitions moved since.
func TestListTransfersNamesMembersBehind(t *testing.T) {
	c := newTestCluster(t, 4)
	ctx := context.Background()
	if rep, err := c.node("n1").ListTransfers(ctx); err != nil || len(rep.Behind) != 0 || len(rep.Unreachable) != 0 {
		t.Fatalf("every member on one ring: behind %v, unreachable %v, err %v", rep.Behind, rep.Unreachable, err)
	}
	from, to := moveTarget(c, 5)
	newer := Topology{Ring: moveOne(t, c.ring, 5, to), Addrs: c.addrs()}
	for _, id := range []string{from, to} {
		if err := c.node(id).SetTopology(newer); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, id := range c.ids {
		if id != from && id != to {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	for _, asker := range c.ids { // whoever is asked, and whatever its own ring
		rep, err := c.node(asker).ListTransfers(ctx)
		if err != nil || !slices.Equal(rep.Behind, want) {
			t.Fatalf("asking %s, with %s and %s on epoch %d and the rest on %d: behind %v (err %v), want %v",
				asker, from, to, newer.Ring.Epoch(), c.ring.Epoch(), rep.Behind, err, want)
		}
	}
}

// Members that all route by the same ring are still behind when the
// cluster has committed a newer one (they are cut off from the group
// together): the metadata plane's confirmation names them, and a plane
// that cannot confirm says so rather than passing their lists as whole.
func TestListTransfersBehindTheCommittedRing(t *testing.T) {
	c := newTestCluster(t, 4)
	ctx := context.Background()
	all := slices.Sorted(slices.Values(c.ids))
	c.md.SetCommittedRing(c.ring.Epoch())
	if rep, err := c.node("n2").ListTransfers(ctx); err != nil || len(rep.Behind) != 0 || rep.RingUnconfirmed != "" {
		t.Fatalf("every member on the committed ring: behind %v, unconfirmed %q, err %v", rep.Behind, rep.RingUnconfirmed, err)
	}
	c.md.SetCommittedRing(c.ring.Epoch() + 1)
	for _, asker := range c.ids {
		rep, err := c.node(asker).ListTransfers(ctx)
		if err != nil || !slices.Equal(rep.Behind, all) || rep.RingUnconfirmed != "" {
			t.Fatalf("asking %s, every member on epoch %d and epoch %d committed: behind %v, unconfirmed %q (err %v), want behind %v",
				asker, c.ring.Epoch(), c.ring.Epoch()+1, rep.Behind, rep.RingUnconfirmed, err, all)
		}
	}
	c.md.Fail(fmt.Errorf("%w: no leader", ErrUnavailable))
	defer c.md.Fail(nil)
	rep, err := c.node("n3").ListTransfers(ctx)
	if err != nil || len(rep.Behind) != 0 || !strings.Contains(rep.RingUnconfirmed, "no leader") {
		t.Fatalf("the plane without a leader: behind %v, unconfirmed %q (err %v), want no one behind and the reason", rep.Behind, rep.RingUnconfirmed, err)
	}
}

// If the new owner goes down during the old owner's drop grace, the copy
// kept there takes fallback writes for it: they are listed as held hints
// at once and delivered as soon as the owner is back, not a grace later.
func TestHandoffOwnerDownDuringDropGraceGetsHintsOnReturn(t *testing.T) {
	c := newTestCluster(t, 5)
	p := 3
	old, to, locs, settle := lostPartition(t, c, p)
	from := old.ID()
	old.view.Set(to, false)
	settle()
	id := handoff.ID{Kind: handoff.Hinted, Partition: p, From: from, To: to}
	if st, ok := localStatus(old.Node, id); !ok || st.State != handoff.Held {
		t.Fatalf("owner down during the drop grace: transfer %v listed as %v (%v), want held", id, statusString(st), ok)
	}
	old.view.Set(to, true)
	old.WakeHandoff()
	// No clock advance: the grace has not passed.
	waitFor(t, "the hints delivered to the returning owner", func() bool { return !old.holdsAny(p) }, old.WakeHandoff)
	for _, l := range locs {
		if o := c.stored(ring.VNode{Partition: p, Node: to}, l); o == nil {
			t.Fatalf("%v not delivered to %s", l, to)
		}
	}
}

// Pausing and at once resuming a running transfer leaves exactly one
// worker streaming it, one the operator can still stop.
func TestHandoffPauseResumeAtOnce(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.Handoff.BatchKeys = 4 })
	p := 7
	from, to := moveTarget(c, p)
	locs := keysOf(c.ring, "ctl", 40, func(q int) bool { return q == p })
	c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })
	var (
		mu                      sync.Mutex
		arrived, inflight, most int // batches at the receiver
	)
	batches := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	gate := make(chan struct{})
	c.gateBatches(to, gate, func() func() {
		batches(func() {
			arrived++
			inflight++
			most = max(most, inflight)
		})
		return func() { batches(func() { inflight-- }) }
	})
	plane := newFakePlane(c, c.ring)
	c.runHandoff([]string{from}, plane.complete)
	sender := c.node(from)
	plane.propose(moveOne(t, c.ring, p, to))
	id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	waitFor(t, "the first batch", func() (ok bool) {
		batches(func() { ok = inflight == 1 })
		return ok
	}, nil)
	ctx := context.Background()
	for _, a := range []handoff.Action{handoff.Pause, handoff.Resume} {
		if err := sender.ControlTransfer(ctx, id, a); err != nil {
			t.Fatal(err)
		}
	}
	// The second attempt's batch is in, the first's has left: from now on
	// only one may be in flight.
	waitFor(t, "the second attempt's batch", func() (ok bool) {
		batches(func() {
			if ok = arrived == 2 && inflight == 1; ok {
				most = 1
			}
		})
		return ok
	}, nil)
	for range 3 {
		c.clock.Advance(sender.cfg.Handoff.MaxBackoff)
		sender.WakeHandoff()
		waitFor(t, "the loop to take the wake", func() bool { return len(sender.handoff.wake) == 0 }, nil)
	}
	if st, _ := localStatus(sender.Node, id); st.State != handoff.Running || st.Attempts != 2 || !workerRunning(sender.Node, id) {
		t.Fatalf("after pause and resume: %s, worker registered %v", statusString(st), workerRunning(sender.Node, id))
	}
	close(gate)
	waitFor(t, "the move", func() bool { return plane.pendingCount() == 0 }, nil)
	batches(func() {
		if most > 1 {
			t.Fatalf("%d batches of one transfer in flight at once", most)
		}
	})
}

// A hint whose stored value fails verification can be neither handed on
// nor repaired where it is (repair mends owners): the fallback drops it
// and delivers the rest, rather than keeping the partition for ever and
// restarting its transfer at once, again and again, as it did (a spin the
// simulation found, seeds 23 and 34).
func TestHandoffDropsCorruptHint(t *testing.T) {
	c := newTestCluster(t, 5)
	down := "n2"
	c.stop(down)
	acked := writeAll(t, c, keysOf(c.ring, "b", 100, nil), "v")
	foreign := c.foreign()
	if len(foreign) == 0 {
		t.Fatal("no fallback holds a hint")
	}
	vn := foreign[0]
	holder := c.node(vn.Node)
	var key []byte
	_ = holder.eng.Iterate(store.Partition(vn.Partition), nil, func(k, _ []byte) error {
		key = slices.Clone(k)
		return store.ErrStop
	})
	if err := store.CorruptValue(holder.eng, store.Partition(vn.Partition), key, 7); err != nil {
		t.Fatal(err)
	}
	c.runHandoff(c.ids, nil)
	c.start(down)
	c.wakeAll()
	c.waitNoForeign()
	if got := holder.metrics.corruptHintsDropped.Load(); got != 1 {
		t.Fatalf("corrupt hints dropped: %d, want 1", got)
	}
	for _, a := range acked {
		if string(a.loc.Bytes()) == string(key) {
			continue // n2's copy of it comes back by anti-entropy, not by this hint
		}
		for _, p := range c.primaries(a.loc) {
			if o := c.stored(p, a.loc); !slices.Equal(values(o), []string{a.val}) {
				t.Fatalf("%s holds %v for %v, want [%s]", vnodeName(p), values(o), a.loc, a.val)
			}
		}
	}
}

// A worker the loop stops (here, because a new ring no longer wants its
// transfer) reports its end to the loop, which hands the slot it frees to
// the next transfer at once. It used to choose at random between telling
// the loop and recording its end behind the loop's back, and then the
// next transfer waited for the loop's next wake-up (an hour's tick here):
// one stop in two left the slot idle. Eight stops in a row would all pass
// by luck once in 256 runs.
func TestHandoffStoppedWorkerFreesItsSlotAtOnce(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) {
		cfg.Handoff.MaxConcurrent = 1
		cfg.Handoff.BatchKeys = 4
	})
	// Two partitions that move from one node to one other.
	parts := []int{3, -1}
	from, to := moveTarget(c, parts[0])
	for p := range testRingSize {
		if p != parts[0] && c.ring.Owner(p) == from {
			parts[1] = p
			break
		}
	}
	if parts[1] < 0 {
		t.Fatalf("%s owns one partition only", from)
	}
	for _, p := range parts {
		locs := keysOf(c.ring, fmt.Sprintf("slot%d", p), 40, func(q int) bool { return q == p })
		c.preload(ring.VNode{Partition: p, Node: from}, locs, func(i int) string { return fmt.Sprintf("v%d", i) })
	}
	// The receiver holds every batch until the test ends, so a transfer
	// runs until it is stopped.
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	c.gateBatches(to, gate, nil)
	plane := newFakePlane(c, c.ring)
	c.runHandoff([]string{from}, plane.complete)
	sender := c.node(from)
	// moves publishes the ring with the moves of the given partitions
	// pending, as a re-planned cluster change would.
	moves := func(ps ...int) {
		plane.mu.Lock()
		defer plane.mu.Unlock()
		plane.pending = nil
		for _, p := range ps {
			plane.pending = append(plane.pending, Transfer{Partition: p, From: from, To: to})
		}
		plane.pushLocked()
	}
	ids := make([]handoff.ID, len(parts))
	for i, p := range parts {
		ids[i] = handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
	}
	running := func() int {
		for i, id := range ids {
			if workerRunning(sender.Node, id) {
				return i
			}
		}
		return -1
	}
	moves(parts...)
	waitFor(t, "one transfer to start", func() bool { return running() >= 0 }, nil)
	for range 8 {
		cur := running()
		next := 1 - cur
		moves(parts[next]) // cur's transfer is no longer wanted
		waitFor(t, fmt.Sprintf("%s to take the slot %s freed", ids[next], ids[cur]), func() bool { return running() == next }, nil)
		moves(parts[next], parts[cur])
	}
}

// gateBatches makes node to hold every handoff batch it receives until
// gate closes or the sender gives up. arrived, if not nil, is called as a
// batch arrives and returns what to call as it leaves.
func (c *testCluster) gateBatches(to string, gate <-chan struct{}, arrived func() (left func())) {
	recv := c.node(to)
	c.tr.Listen(to, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == methodBatch {
			if arrived != nil {
				defer arrived()()
			}
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return recv.HandleRPC(ctx, method, body)
	})
}

// hintsForAMovedPartition stops down, writes keys so that fallbacks take
// hints for down's partitions, and picks one: partition p, held by
// fallback. newer is the next ring, which gives p to the fallback; no node
// routes by it yet. contents lists what a node holds under p.
func hintsForAMovedPartition(t *testing.T, c *testCluster, down string) (p int, fallback string, newer *ring.Ring, contents func(id string) map[string]string) {
	t.Helper()
	c.stop(down)
	writeAll(t, c, keysOf(c.ring, "b", 100, nil), "v")
	i := slices.IndexFunc(c.foreign(), func(vn ring.VNode) bool { return c.ring.Owner(vn.Partition) == down })
	if i < 0 {
		t.Fatal("no fallback holds a hint for " + down)
	}
	hint := c.foreign()[i]
	p, fallback = hint.Partition, hint.Node
	owners := c.ring.Owners()
	owners[p] = fallback
	newer, err := ring.New(ring.Config{Size: testRingSize}, owners, c.ring.Epoch()+1)
	if err != nil {
		t.Fatal(err)
	}
	contents = func(id string) map[string]string {
		m := map[string]string{}
		_ = c.node(id).eng.Iterate(store.Partition(p), nil, func(k, v []byte) error {
			m[string(k)] = string(v)
			return nil
		})
		return m
	}
	return p, fallback, newer, contents
}

// A fallback that routes by an older ring hands its hints for a partition
// to the partition's old owner, whose newer ring gives that partition to
// the fallback itself (the simulation found it: seed 70093, a node leaving
// while another lagged behind the ring). The old owner refuses them, so
// the fallback keeps its copies, which are now its own; had the old owner
// taken them, the fallback would have deleted them, leaving the new owner
// without its copy and the keys on a node that does not own them.
func TestHandoffHintsRefusedByFormerOwner(t *testing.T) {
	c := newTestCluster(t, 5)
	down := "n2"
	p, fallback, newer, contents := hintsForAMovedPartition(t, c, down)
	held := contents(fallback)

	// The ring moves p to the fallback; only the old owner has heard.
	if err := c.node(down).SetTopology(Topology{Ring: newer, Addrs: c.node(down).Topology().Addrs}); err != nil {
		t.Fatal(err)
	}
	c.runHandoff(c.ids, nil)
	c.start(down)
	c.wakeAll()

	id := handoff.ID{Kind: handoff.Hinted, Partition: p, From: fallback, To: down}
	// Until the delivery is refused, or the fallback has let go of some
	// of its copies (the old owner took them).
	waitFor(t, "the old owner to refuse the hints", func() bool {
		return slices.ContainsFunc(c.node(fallback).LocalTransfers(), func(st handoff.Status) bool {
			return st.ID == id && strings.Contains(st.LastError, "refused")
		}) || !maps.Equal(contents(fallback), held)
	}, nil)
	if got := contents(fallback); !maps.Equal(got, held) {
		t.Fatalf("%s holds %d keys of partition %d after its delivery attempt, want the %d it held, unchanged", fallback, len(got), p, len(held))
	}
	if got := contents(down); len(got) != 0 {
		t.Fatalf("%s, which no longer owns partition %d, took %d keys of it", down, p, len(got))
	}

	// Once the fallback routes by the newer ring too, the partition is its
	// own: its copies stay, and the transfer is no longer offered.
	if err := c.node(fallback).SetTopology(Topology{Ring: newer, Addrs: c.node(fallback).Topology().Addrs}); err != nil {
		t.Fatal(err)
	}
	c.wakeAll()
	waitFor(t, "the hinted transfer to be withdrawn", func() bool {
		return !slices.ContainsFunc(c.node(fallback).LocalTransfers(), func(st handoff.Status) bool { return st.ID == id })
	}, nil)
	if got := contents(fallback); !maps.Equal(got, held) {
		t.Fatalf("%s holds %d keys of partition %d, now its own, want the %d it held, unchanged", fallback, len(got), p, len(held))
	}
}

// The ring gives a partition to the fallback holding hints for it while a
// batch of them is on its way to the old owner, which still routes by the
// older ring and takes it. The fallback, back from the send, finds the
// partition its own and keeps its copies: they are no longer hints.
func TestHandoffHintsKeptWhenThePartitionBecomesTheSenders(t *testing.T) {
	c := newTestCluster(t, 5)
	down := "n2"
	p, fallback, newer, contents := hintsForAMovedPartition(t, c, down)
	held := contents(fallback)

	// The old owner takes the first batch; before it answers, the
	// fallback learns the newer ring.
	var took atomic.Int64
	receiver := c.node(down)
	c.start(down)
	c.tr.Listen(down, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		var req batchReq
		if method == methodBatch && decodeMsg(body, &req) == nil && req.Partition == p && took.Add(1) == 1 {
			if err := c.node(fallback).SetTopology(Topology{Ring: newer, Addrs: c.node(fallback).Topology().Addrs}); err != nil {
				return nil, err
			}
		}
		return receiver.HandleRPC(ctx, method, body)
	})
	c.runHandoff([]string{fallback}, nil) // the only sender
	c.wakeAll()
	waitFor(t, fmt.Sprintf("the batch of partition %d and the end of its transfer", p), func() bool {
		return took.Load() > 0 && !slices.ContainsFunc(c.node(fallback).LocalTransfers(), func(st handoff.Status) bool {
			return st.ID.Partition == p && st.ID.Kind == handoff.Hinted && st.State == handoff.Running
		})
	}, nil)
	if took.Load() != 1 {
		t.Fatalf("the old owner was sent %d batches of partition %d, want 1: the transfer went on after the ring changed", took.Load(), p)
	}
	if got := contents(fallback); !maps.Equal(got, held) {
		t.Fatalf("%s holds %d keys of partition %d, now its own, want the %d it held, unchanged", fallback, len(got), p, len(held))
	}
}
