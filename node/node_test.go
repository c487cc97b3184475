package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// testNode is a node on an in-memory engine with a fake clock and a
// replica seam whose vnodes can be made to fail.
type testNode struct {
	*Node
	eng    *store.Mem
	faults *faultyReplicas
	clock  *clock.Fake
}

func newTestNode(t *testing.T, mutate ...func(*Config)) *testNode {
	t.Helper()
	return newTestNodeWith(t, nil, mutate...)
}

// testEpoch is when a test node's fake clock starts.
var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newTestNodeWith is newTestNode over md (nil: a LocalMetadata).
func newTestNodeWith(t *testing.T, md Metadata, mutate ...func(*Config)) *testNode {
	t.Helper()
	cfg := DefaultLocalConfig("n1")
	cfg.Logger = slog.New(slog.DiscardHandler)
	fc := clock.NewFake(testEpoch)
	cfg.Clock = fc
	for _, m := range mutate {
		m(&cfg)
	}
	eng := store.NewMem()
	n, err := New(cfg, eng, md)
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyReplicas{next: n.replicas, down: map[int]error{}}
	n.replicas = f
	t.Cleanup(func() {
		_ = n.Close()
		_ = eng.Close()
	})
	return &testNode{Node: n, eng: eng, faults: f, clock: fc}
}

// faultyReplicas fails chosen vnodes, as a down or unreachable replica would.
type faultyReplicas struct {
	next Replicas
	mu   sync.Mutex
	down map[int]error
}

func (f *faultyReplicas) fail(p int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.down, p)
		return
	}
	f.down[p] = err
}

func (f *faultyReplicas) check(vn ring.VNode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[vn.Partition]
}

func (f *faultyReplicas) GetReplica(ctx context.Context, vn ring.VNode, key []byte) (*object.Object, error) {
	if err := f.check(vn); err != nil {
		return nil, err
	}
	return f.next.GetReplica(ctx, vn, key)
}

func (f *faultyReplicas) PutReplica(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, w ReplicaWrite) (*object.Object, error) {
	if err := f.check(vn); err != nil {
		return nil, err
	}
	return f.next.PutReplica(ctx, vn, key, obj, w)
}

var errDown = errors.New("test: vnode down")

func loc(key string) Location { return Location{Type: DefaultType, Bucket: "b", Key: key} }

func text(v string) object.Content {
	return object.Content{Value: []byte(v), ContentType: "text/plain"}
}

func values(o *object.Object) []string {
	var out []string
	for _, c := range o.Values() {
		if !c.Deleted {
			out = append(out, string(c.Value))
		}
	}
	sort.Strings(out)
	return out
}

func mustPut(t *testing.T, n *testNode, l Location, v string, ctx object.Context) *object.Object {
	t.Helper()
	opts := DefaultPutOptions()
	opts.Context = ctx
	opts.ReturnBody = true
	o, err := n.Put(context.Background(), l, text(v), opts)
	if err != nil {
		t.Fatalf("put %s=%s: %v", l, v, err)
	}
	return o
}

func mustGet(t *testing.T, n *testNode, l Location) *object.Object {
	t.Helper()
	o, err := n.Get(context.Background(), l, DefaultGetOptions())
	if err != nil {
		t.Fatalf("get %s: %v", l, err)
	}
	return o
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestPutGetAndCausality(t *testing.T) {
	n := newTestNode(t)
	l := loc("k")
	if _, err := n.Get(context.Background(), l, DefaultGetOptions()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get of a missing key: %v", err)
	}
	mustPut(t, n, l, "v1", object.Context{})
	read := mustGet(t, n, l)
	if got := values(read); !equal(got, []string{"v1"}) {
		t.Fatalf("after one put: %v", got)
	}
	// Two writers read v1 and both write with its context through the same
	// coordinator: two siblings, neither lost, v1 gone.
	mustPut(t, n, l, "a", read.Context())
	mustPut(t, n, l, "b", read.Context())
	got := mustGet(t, n, l)
	if v := values(got); !equal(v, []string{"a", "b"}) {
		t.Fatalf("concurrent writes: %v, want [a b]", v)
	}
	// A blind write adds a sibling.
	mustPut(t, n, l, "c", object.Context{})
	if v := values(mustGet(t, n, l)); !equal(v, []string{"a", "b", "c"}) {
		t.Fatalf("blind write: %v, want [a b c]", v)
	}
	// Resolving with the context of the read supersedes exactly what it saw.
	mustPut(t, n, l, "resolved", mustGet(t, n, l).Context())
	if v := values(mustGet(t, n, l)); !equal(v, []string{"resolved"}) {
		t.Fatalf("after resolving: %v", v)
	}
	// Every replica holds the same object once the tail of the last write
	// has landed.
	n.WaitIdle()
	pl := n.Ring().Preflist(l.Bytes(), 3)
	first, _ := n.local.load(pl[0].Partition, l.Bytes())
	for _, vn := range pl[1:] {
		o, err := n.local.load(vn.Partition, l.Bytes())
		if err != nil || !object.Equal(o, first) {
			t.Fatalf("replica %d differs: %v", vn.Partition, err)
		}
	}
}

func TestAllowMultFalseKeepsOneValue(t *testing.T) {
	n := newTestNode(t)
	if _, err := n.SetBucketProps(context.Background(), DefaultType, "b", []byte(`{"allow_mult":false}`)); err != nil {
		t.Fatal(err)
	}
	l := loc("k")
	mustPut(t, n, l, "old", object.Context{})
	n.clock.Advance(time.Second)
	mustPut(t, n, l, "new", object.Context{})
	if v := values(mustGet(t, n, l)); !equal(v, []string{"new"}) {
		t.Fatalf("allow_mult=false: %v, want [new]", v)
	}
}

func TestWriteQuorums(t *testing.T) {
	l := loc("k")
	cases := []struct {
		name    string
		down    int // replicas failed, counted from the end of the preference list
		w, pw   Quorum
		dw      Quorum
		wantErr error
	}{
		{"all up, w=all", 0, QuorumAll, 0, QuorumDefault, nil},
		{"one down, w=quorum", 1, QuorumQuorum, 0, QuorumDefault, nil},
		{"one down, w=all", 1, QuorumAll, 0, QuorumDefault, ErrQuorumNotMet},
		{"two down, w=quorum", 2, QuorumQuorum, QuorumDefault, 0, ErrQuorumNotMet},
		{"two down, w=one dw=0", 2, QuorumOne, 0, 0, nil},
		{"two down, w=one pw=2", 2, QuorumOne, 2, 0, ErrQuorumNotMet},
		{"two down, w=one dw=quorum", 2, QuorumOne, 0, QuorumQuorum, ErrQuorumNotMet},
		{"w=4 > n_val", 0, 4, 0, QuorumDefault, ErrQuorumTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t)
			pl := n.Ring().Preflist(l.Bytes(), 3)
			for i := 0; i < tc.down; i++ {
				n.faults.fail(pl[len(pl)-1-i].Partition, errDown)
			}
			opts := DefaultPutOptions()
			opts.W, opts.PW, opts.DW = tc.w, tc.pw, tc.dw
			_, err := n.Put(context.Background(), l, text("v"), opts)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestReadQuorumsAndNotFound(t *testing.T) {
	l := loc("k")
	n := newTestNode(t)
	mustPut(t, n, l, "v", object.Context{})
	pl := n.Ring().Preflist(l.Bytes(), 3)
	n.faults.fail(pl[1].Partition, errDown)
	n.faults.fail(pl[2].Partition, errDown)
	if _, err := n.Get(context.Background(), l, GetOptions{R: QuorumQuorum, PR: QuorumDefault}); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("r=quorum with two down: %v", err)
	}
	if o, err := n.Get(context.Background(), l, GetOptions{R: QuorumOne, PR: QuorumDefault}); err != nil || !equal(values(o), []string{"v"}) {
		t.Fatalf("r=one with two down: %v", err)
	}
	if _, err := n.Get(context.Background(), l, GetOptions{R: 4, PR: QuorumDefault}); !errors.Is(err, ErrQuorumTooLarge) {
		t.Fatalf("r=4: %v", err)
	}
	n.faults.fail(pl[1].Partition, nil)
	n.faults.fail(pl[2].Partition, nil)
	// notfound_ok=false: a missing key is notfound, not a quorum error.
	no := false
	if _, err := n.Get(context.Background(), loc("missing"), GetOptions{R: QuorumAll, PR: QuorumDefault, NotFoundOK: &no}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key with notfound_ok=false: %v", err)
	}
}

func TestReadRepairFillsMissingReplica(t *testing.T) {
	n := newTestNode(t)
	l := loc("k")
	pl := n.Ring().Preflist(l.Bytes(), 3)
	// The third replica misses the write (w=2 is still met).
	n.faults.fail(pl[2].Partition, errDown)
	mustPut(t, n, l, "v", object.Context{})
	n.WaitIdle()
	if o, _ := n.local.load(pl[2].Partition, l.Bytes()); o != nil {
		t.Fatal("down replica received the write")
	}
	n.faults.fail(pl[2].Partition, nil)
	mustGet(t, n, l)
	n.WaitIdle()
	o, err := n.local.load(pl[2].Partition, l.Bytes())
	if err != nil || o == nil || !equal(values(o), []string{"v"}) {
		t.Fatalf("replica not repaired: %v %v", o, err)
	}
	if got := n.Stats().ReadRepairs; got != 1 {
		t.Fatalf("read repairs = %d, want 1", got)
	}
}

func TestCorruptReplicaIsNeverServedAndIsRepaired(t *testing.T) {
	n := newTestNode(t)
	l := loc("k")
	mustPut(t, n, l, "precious", object.Context{})
	n.WaitIdle()
	pl := n.Ring().Preflist(l.Bytes(), 3)
	// Flip a byte of the value stored by the first replica.
	p := store.Partition(pl[0].Partition)
	raw, err := n.eng.Get(p, l.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := n.eng.Put(p, l.Bytes(), raw); err != nil {
		t.Fatal(err)
	}
	// r=all cannot be met: the corrupt replica's reply is an error, not data.
	if o, err := n.Get(context.Background(), l, GetOptions{R: QuorumAll, PR: QuorumDefault}); !errors.Is(err, ErrQuorumNotMet) || o != nil {
		t.Fatalf("r=all with a corrupt replica: %v %v", o, err)
	}
	// That read repaired the replica from the other two.
	n.WaitIdle()
	if o, err := n.Get(context.Background(), l, GetOptions{R: QuorumAll, PR: QuorumDefault}); err != nil || !equal(values(o), []string{"precious"}) {
		t.Fatalf("r=all after read repair: %v %v", o, err)
	}
	n.WaitIdle()
	if n.Stats().CorruptReads == 0 {
		t.Fatal("corruption not counted")
	}
	o, err := n.local.load(pl[0].Partition, l.Bytes())
	if err != nil || !equal(values(o), []string{"precious"}) {
		t.Fatalf("corrupt replica not repaired: %v", err)
	}
}

func TestCorruptionWithOneReplicaIsAnError(t *testing.T) {
	n := newTestNode(t, func(c *Config) {
		c.Props.NVal = 1
		c.Props.R, c.Props.W, c.Props.DW, c.Props.RW = QuorumOne, QuorumOne, QuorumOne, QuorumOne
	})
	l := loc("k")
	mustPut(t, n, l, "precious", object.Context{})
	p := store.Partition(n.Ring().Preflist(l.Bytes(), 1)[0].Partition)
	raw, _ := n.eng.Get(p, l.Bytes())
	raw[len(raw)-1] ^= 1
	_ = n.eng.Put(p, l.Bytes(), raw)
	o, err := n.Get(context.Background(), l, DefaultGetOptions())
	if err == nil || !errors.Is(err, object.ErrCorrupt) && !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("get of the only, corrupt, replica: %v %v", o, err)
	}
	if o != nil {
		t.Fatal("corrupt data served")
	}
}

func TestDeleteLeavesTombstoneWithContext(t *testing.T) {
	n := newTestNode(t)
	l := loc("k")
	mustPut(t, n, l, "v", object.Context{})
	if err := n.Delete(context.Background(), l, DefaultDeleteOptions()); err != nil {
		t.Fatal(err)
	}
	o, err := n.Get(context.Background(), l, DefaultGetOptions())
	if !errors.Is(err, ErrNotFound) || o == nil || !o.IsTombstone() {
		t.Fatalf("after delete: %v %v", o, err)
	}
	// A write with the tombstone's context revives the key with one value.
	mustPut(t, n, l, "again", o.Context())
	if v := values(mustGet(t, n, l)); !equal(v, []string{"again"}) {
		t.Fatalf("after rewrite: %v", v)
	}
	if err := n.Delete(context.Background(), loc("never"), DefaultDeleteOptions()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete of a missing key: %v", err)
	}
}

func TestPropsValidationAndPersistence(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	if _, err := n.SetBucketProps(ctx, DefaultType, "b", []byte(`{"n_val":2,"r":3}`)); !errors.Is(err, ErrBadProps) {
		t.Fatalf("r > n_val accepted: %v", err)
	}
	if _, err := n.SetBucketProps(ctx, DefaultType, "b", []byte(`{"nval":2}`)); !errors.Is(err, ErrBadProps) {
		t.Fatalf("unknown prop accepted: %v", err)
	}
	if _, err := n.SetBucketProps(ctx, "nosuch", "b", []byte(`{}`)); !errors.Is(err, ErrUnknownBucketType) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := n.SetBucketProps(ctx, DefaultType, "b", []byte(`{"n_val":5,"w":"all"}`)); err != nil {
		t.Fatal(err)
	}
	// A fresh node on the same engine sees the stored properties.
	cfg := n.cfg
	cfg.Registry = nil
	n2, err := New(cfg, n.eng, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := n2.BucketProps(ctx, DefaultType, "b")
	if p.NVal != 5 || p.W != QuorumAll {
		t.Fatalf("props after restart: %+v", p)
	}
	if err := n2.ResetBucketProps(ctx, DefaultType, "b"); err != nil {
		t.Fatal(err)
	}
	if p, _ := n2.BucketProps(ctx, DefaultType, "b"); p.NVal != 3 {
		t.Fatalf("after reset: %+v", p)
	}
}

func TestListBucketsAndKeys(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		mustPut(t, n, Location{Type: DefaultType, Bucket: "one", Key: k}, "v", object.Context{})
	}
	mustPut(t, n, Location{Type: DefaultType, Bucket: "two", Key: "x"}, "v", object.Context{})
	if err := n.Delete(ctx, Location{Type: DefaultType, Bucket: "one", Key: "b"}, DefaultDeleteOptions()); err != nil {
		t.Fatal(err)
	}
	n.WaitIdle() // listing reads every replica, including the tail of the delete
	var buckets, keys []string
	if err := n.ListBuckets(ctx, DefaultType, func(b string) error { buckets = append(buckets, b); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := n.ListKeys(ctx, DefaultType, "one", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(buckets)
	sort.Strings(keys)
	if !equal(buckets, []string{"one", "two"}) || !equal(keys, []string{"a", "c"}) {
		t.Fatalf("buckets %v keys %v", buckets, keys)
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	n := newTestNode(t)
	l := loc("hot")
	const writers = 16
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustPut(t, n, l, fmt.Sprintf("w%02d", i), object.Context{})
		}()
	}
	wg.Wait()
	if got := len(values(mustGet(t, n, l))); got != writers {
		t.Fatalf("%d siblings after %d blind concurrent writes", got, writers)
	}
}

// TestLastWriteWinsSurvivesClockGoingBack: a write through the coordinator
// is stamped after the newest sibling it may replace, so last-write-wins
// keeps it even when the wall clock stepped back in between.
func TestLastWriteWinsSurvivesClockGoingBack(t *testing.T) {
	n := newTestNode(t)
	if _, err := n.SetBucketProps(context.Background(), DefaultType, "b", []byte(`{"allow_mult":false}`)); err != nil {
		t.Fatal(err)
	}
	l := loc("k")
	mustPut(t, n, l, "first", object.Context{})
	n.clock.Set(n.clock.Now().Add(-time.Hour))
	mustPut(t, n, l, "second", object.Context{})
	if v := values(mustGet(t, n, l)); !equal(v, []string{"second"}) {
		t.Fatalf("after the clock stepped back: %v, want [second]", v)
	}
}

// TestListKeysIgnoresStaleLiveReplica: a replica that missed a delete still
// holds the value; the listing merges replicas and does not show the key.
func TestListKeysIgnoresStaleLiveReplica(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	l := loc("gone")
	mustPut(t, n, l, "v", object.Context{})
	n.WaitIdle()
	pl := n.Ring().Preflist(l.Bytes(), 3)
	n.faults.fail(pl[2].Partition, errDown)
	if err := n.Delete(ctx, l, DefaultDeleteOptions()); err != nil {
		t.Fatal(err)
	}
	n.WaitIdle()
	n.faults.fail(pl[2].Partition, nil)
	if o, _ := n.local.load(pl[2].Partition, l.Bytes()); o == nil || o.IsTombstone() {
		t.Fatal("setup: the down replica should still hold the live value")
	}
	var keys []string
	if err := n.ListKeys(ctx, DefaultType, "b", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("deleted key listed: %v", keys)
	}
}

// TestCloseWaitsForRequests: requests racing Close either finish normally
// or fail with ErrClosed; Close returns only after those admitted are done.
// Run under -race, this also checks Close never races a request's start.
func TestCloseWaitsForRequests(t *testing.T) {
	n := newTestNode(t)
	mustPut(t, n, loc("k"), "v", object.Context{})
	const clients = 8
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for j := range 50 {
				_, err := n.Put(context.Background(), loc(fmt.Sprintf("k%d-%d", i, j)), text("v"), DefaultPutOptions())
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("put during close: %v", err)
					return
				}
			}
		})
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Get(context.Background(), loc("k"), DefaultGetOptions()); !errors.Is(err, ErrClosed) {
		t.Fatalf("get after Close: %v", err)
	}
	if err := n.ListKeys(context.Background(), DefaultType, "b", func(string) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("list after Close: %v", err)
	}
	wg.Wait()
}
