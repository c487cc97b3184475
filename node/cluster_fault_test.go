package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
)

func cdelete(t *testing.T, n *clusterNode, loc Location, w int) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := DefaultDeleteOptions()
	opts.W = q(w)
	return n.Delete(ctx, loc, opts)
}

// A delete's tombstone is reaped once every primary holds it and the
// grace period has passed; the key then reads as a plain not-found.
// While a primary is down nothing is reaped, and the value does not come
// back when it returns.
func TestClusterTombstoneReaping(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "reap"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)
	if _, err := cput(t, coord, loc, "v", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := cdelete(t, coord, loc, 3); err != nil {
		t.Fatal(err)
	}
	c.idle()
	for _, vn := range prims {
		if o := c.stored(vn, loc); o == nil || !o.IsTombstone() {
			t.Fatalf("%s holds %v right after the delete, want a tombstone", vnodeName(vn), o)
		}
	}
	// Before the grace period ends, nothing is reaped.
	c.clock.Advance(coord.cfg.reapDelay() / 2)
	if o := c.stored(prims[1], loc); o == nil {
		t.Fatal("tombstone reaped before the grace period ended")
	}
	c.clock.Advance(coord.cfg.reapDelay())
	coord.reapers.Wait()
	for _, vn := range prims {
		if o := c.stored(vn, loc); o != nil {
			t.Fatalf("%s still holds %v after the grace period", vnodeName(vn), o)
		}
	}
	got, err := cget(t, coord, loc, getOpts(3, 0))
	if !errors.Is(err, ErrNotFound) || got != nil {
		t.Fatalf("get after reaping: %v %v, want a plain not found", got, err)
	}
	if coord.Stats().TombstonesReaped != 3 {
		t.Fatalf("reaped %d tombstones, want 3", coord.Stats().TombstonesReaped)
	}

	// A primary that misses the delete blocks reaping; when it is back,
	// a read repairs it with the tombstone and the next read reaps.
	loc2 := Location{Type: DefaultType, Bucket: "b", Key: "reap-down"}
	prims = c.primaries(loc2)
	coord = c.node(prims[0].Node)
	if _, err := cput(t, coord, loc2, "old", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	down := prims[2]
	c.stop(down.Node)
	if err := cdelete(t, coord, loc2, 2); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.clock.Advance(2 * coord.cfg.reapDelay())
	coord.reapers.Wait()
	if o := c.stored(prims[1], loc2); o == nil || !o.IsTombstone() {
		t.Fatalf("tombstone on %s reaped (%v) while primary %s was down", vnodeName(prims[1]), o, down.Node)
	}
	c.start(down.Node)
	if o := c.stored(down, loc2); !slices.Equal(values(o), []string{"old"}) {
		t.Fatalf("returning primary holds %v, want the pre-delete value", values(o))
	}
	if got, err := cget(t, coord, loc2, getOpts(3, 0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read with a stale primary back: %v %v, want not found", values(got), err)
	}
	c.idle()
	if o := c.stored(down, loc2); o == nil || !o.IsTombstone() {
		t.Fatalf("read repair left %v on the returning primary, want the tombstone", o)
	}
	// Every primary now holds the tombstone, but the fallback that took
	// the delete for the down primary still holds its copy: no reap yet,
	// since a hint older than the tombstone could bring the value back.
	if _, err := cget(t, coord, loc2, getOpts(3, 0)); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	c.idle()
	c.clock.Advance(2 * coord.cfg.reapDelay())
	coord.reapers.Wait()
	if o := c.stored(prims[0], loc2); o == nil || !o.IsTombstone() {
		t.Fatalf("tombstone reaped (%v) while a fallback still held a hint for the key", o)
	}
	for _, id := range c.ids {
		if _, err := c.node(id).HandOffHints(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cget(t, coord, loc2, getOpts(3, 0)); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	c.idle()
	c.clock.Advance(2 * coord.cfg.reapDelay())
	coord.reapers.Wait()
	for _, vn := range prims {
		if o := c.stored(vn, loc2); o != nil {
			t.Fatalf("%s still holds %v once every primary had the tombstone and no hint was left", vnodeName(vn), o)
		}
	}
	if got, err := cget(t, coord, loc2, getOpts(3, 0)); !errors.Is(err, ErrNotFound) || got != nil {
		t.Fatalf("deleted key reads %v %v", values(got), err)
	}
}

// dw counts only acknowledgements made after the replica's write was
// durable: with no disk able to sync, a dw=2 write cannot complete, a
// dw=0 one can.
func TestClusterDurableWrites(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "dw"}
	prims := c.primaries(loc)
	if _, err := cput(t, c.node(prims[0].Node), loc, "v", putOpts(3, 3, 0)); err != nil {
		t.Fatalf("dw=3 with healthy disks: %v", err)
	}
	// Every disk, since a replica that fails is replaced by a fallback.
	for _, n := range c.nodes {
		n.eng.InjectError(store.MethodWaitDurable, nil, errors.New("disk gone"))
	}
	_, err := cput(t, c.node(prims[0].Node), loc, "v2", putOpts(2, 2, 0))
	if !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("dw=2 with failing syncs: %v, want ErrQuorumNotMet", err)
	}
	if _, err := cput(t, c.node(prims[0].Node), loc, "v3", putOpts(2, 0, 0)); err != nil {
		t.Fatalf("dw=0 with failing syncs: %v", err)
	}
}

// Peers' bytes are untrusted: garbage for every method is a clear error,
// never a panic, and the node keeps serving.
func TestClusterRejectsMalformedRPC(t *testing.T) {
	c := newTestCluster(t, 3)
	n := c.node("n1")
	bad := [][]byte{nil, {0xc1}, {0xdf, 0xff, 0xff, 0xff, 0xff}, []byte("not msgpack at all"), {0x81, 0xa1, 'p', 0xcc}}
	for _, m := range []string{methodGetReplica, methodPutReplica, methodReap, methodCoordPut, methodNames, methodHolds} {
		for _, b := range bad {
			if _, err := n.HandleRPC(context.Background(), m, b); !errors.Is(err, ErrBadRequest) {
				t.Errorf("%s %x: %v, want ErrBadRequest", m, b, err)
			}
		}
	}
	// Well-formed messages with bad contents.
	for _, req := range []struct {
		method string
		msg    any
	}{
		{methodGetReplica, &getReplicaReq{Partition: -1, Key: Location{Type: "t", Bucket: "b", Key: "k"}.Bytes()}},
		{methodGetReplica, &getReplicaReq{Partition: testRingSize, Key: []byte("k")}},
		{methodPutReplica, &putReplicaReq{Partition: 0, Key: Location{Type: "t", Bucket: "b", Key: "k"}.Bytes(), Object: []byte("garbage")}},
		{methodReap, &reapReq{Partition: 0, Key: Location{Type: "t", Bucket: "b", Key: "k"}.Bytes(), Tombstone: mustEncode(t, liveObject())}},
		{methodCoordPut, &coordPutReq{Type: "default", Bucket: "b", Key: "k", N: 3, W: 4}},
		{methodNames, &namesReq{Prefix: []byte("x"), Limit: 0}},
		{methodHolds, &holdsReq{Key: Location{Type: "t", Bucket: "b", Key: "k"}.Bytes()}},
		{methodHolds, &holdsReq{Key: Location{Type: "t", Bucket: "b", Key: "k"}.Bytes(), Partitions: []int{-3}}},
		{methodNames, &namesReq{Prefix: []byte("x"), Limit: 10, What: 9}},
		{methodCoordPut, &coordPutReq{Type: "default", Bucket: "b", Key: "k", N: 3, W: 2, Context: "bm90IGEgY29udGV4dA=="}},
	} {
		body, err := encodeMsg(req.msg)
		if err != nil {
			t.Fatal(err)
		}
		out, err := n.HandleRPC(context.Background(), req.method, body)
		if req.method == methodCoordPut && err == nil {
			var resp coordPutResp
			if derr := decodeMsg(out, &resp); derr != nil || resp.Code == codeOK {
				t.Errorf("%s %+v: answered %+v %v, want an error code", req.method, req.msg, resp, derr)
			}
			continue
		}
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s %+v: %v, want ErrBadRequest", req.method, req.msg, err)
		}
	}
	loc := Location{Type: DefaultType, Bucket: "b", Key: "still"}
	if _, err := cput(t, n, loc, "serving", putOpts(3, 0, 0)); err != nil {
		t.Fatalf("node stopped serving after garbage: %v", err)
	}
}

func liveObject() *object.Object {
	return object.New().Update(object.Context{}, object.Content{Value: []byte("v")}, "a")
}

func mustEncode(t testing.TB, o *object.Object) []byte {
	b, err := object.Encode(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzHandleRPC feeds arbitrary bodies to every RPC method of a node: no
// input may crash it, and anything it accepts as a put stays readable.
func FuzzHandleRPC(f *testing.F) {
	for _, m := range []any{
		&getReplicaReq{Partition: 1, Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes()},
		&putReplicaReq{Partition: 2, Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes(), Object: mustEncode(f, liveObject())},
		&coordPutReq{Type: "default", Bucket: "b", Key: "k", N: 3, W: 1, Content: object.Content{Value: []byte("x")}},
		&aaeTreeReq{Partition: 1, Q: 0, N: 3, Segments: 1024, Level: levelSegments, Branches: []int{0, 31}},
		&aaeKeysReq{Partition: 1, Q: 0, N: 3, Segments: 1024, Segs: []int{0, 5, 1023}},
		&reapReq{Partition: 1, Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes(), Tombstone: mustEncode(f, liveObject())},
		&namesReq{Prefix: BucketPrefix("default", "b"), What: listKeys, Limit: 10},
		&namesReq{Prefix: nil, What: listBuckets, After: "\xff", Limit: namesPage + 1},
		&holdsReq{Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes(), Partitions: []int{0, 1, 31}},
		&batchReq{Partition: 3, Entries: []batchWire{{Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes(), Object: mustEncode(f, liveObject())}, {Key: nil, Object: []byte{0xc1}}}},
		&batchReq{Partition: 1 << 20, Hinted: true, Entries: []batchWire{{Key: Location{Type: "default", Bucket: "b", Key: "k"}.Bytes(), Object: mustEncode(f, liveObject())}}},
		&transfersReq{},
		&transfersReq{ID: "3:n1:n2", Action: "cancel"},
	} {
		b, _ := encodeMsg(m)
		for i := range 10 {
			f.Add(uint8(i), b)
		}
	}
	methods := []string{methodGetReplica, methodPutReplica, methodReap, methodCoordPut, methodNames, methodHolds,
		methodBatch, methodTransfers, methodAAETree, methodAAEKeys}
	f.Fuzz(func(t *testing.T, m uint8, body []byte) {
		c := fuzzCluster(t)
		_, _ = c.node("n1").HandleRPC(context.Background(), methods[int(m)%len(methods)], body)
		if _, err := cput(t, c.node("n1"), Location{Type: DefaultType, Bucket: "b", Key: "after"}, "ok", putOpts(1, 0, 0)); err != nil {
			t.Fatalf("node broken after %x: %v", body, err)
		}
	})
}

// fuzzCluster builds a small cluster per input: cheap (in memory), and
// every input starts from a clean state.
func fuzzCluster(t *testing.T) *testCluster { return newTestCluster(t, 3) }

// Messages are lost, delayed and reordered at random (seeded) while
// writes with w=2 go on; every acknowledged write is readable once the
// network is clean again and replicas are repaired.
func TestClusterLossyNetworkLosesNoAcknowledgedWrite(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) {
		cfg.ReplicaTimeout = 50 * time.Millisecond
		cfg.RequestTimeout = 500 * time.Millisecond
	})
	c.tr.SetFaults(rpc.Faults{DropRate: 0.1})
	acked := map[Location]string{}
	for i := range 100 {
		loc := Location{Type: DefaultType, Bucket: "b", Key: fmt.Sprintf("k%d", i)}
		val := fmt.Sprintf("v%d", i)
		if _, err := cput(t, c.node(c.ids[i%5]), loc, val, putOpts(2, 0, 0)); err == nil {
			acked[loc] = val
		}
	}
	if len(acked) < 50 {
		t.Fatalf("only %d of 100 writes acknowledged with 10%% loss", len(acked))
	}
	c.idle()
	c.tr.Heal()
	for _, id := range c.ids {
		if _, err := c.node(id).HandOffHints(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for loc, val := range acked {
		got, err := cget(t, c.node(c.ids[0]), loc, getOpts(2, 0))
		if err != nil || !slices.Contains(values(got), val) {
			t.Fatalf("acknowledged %s at %v: read %v %v", val, loc, values(got), err)
		}
	}
	if s := c.tr.Stats(); s.Dropped == 0 {
		t.Fatalf("no message was dropped: %+v", s)
	}
}

// A node that has restarted but not yet learned the ring answers its
// peers "unavailable" instead of failing on a missing ring, and a write
// forwarded to it goes to the next replica.
func TestClusterNodeWithoutRingYet(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "restart"}
	prims := c.primaries(loc)
	cfg := DefaultLocalConfig(prims[0].Node)
	cfg.RingSize = testRingSize
	cfg.Clock = c.clock
	cfg.Logger = c.nodes["n1"].cfg.Logger
	eng := store.NewMem()
	fresh, err := NewClustered(cfg, eng, c.md, c.tr.Host(prims[0].Node), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Close(); _ = eng.Close() })
	c.tr.Listen(prims[0].Node, fresh.HandleRPC) // the restarted process
	for _, m := range []string{methodGetReplica, methodPutReplica, methodReap, methodNames, methodHolds} {
		if _, err := fresh.HandleRPC(context.Background(), m, nil); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s before the ring: %v, want ErrUnavailable", m, err)
		}
	}
	if _, err := cput(t, c.node(c.outside(loc)), loc, "v", putOpts(2, 0, 0)); err != nil {
		t.Fatalf("write forwarded past a node without a ring: %v", err)
	}
	c.idle()
	if got, err := cget(t, c.node(prims[1].Node), loc, getOpts(2, 0)); err != nil || !slices.Equal(values(got), []string{"v"}) {
		t.Fatalf("read back: %v %v", values(got), err)
	}
}

// The resurrection the hint check prevents: a fallback holds a value for a
// primary that was down; the primary returns and the key is deleted on all
// three primaries before the hint is handed off. Reaping then would let the
// hint bring the value back; the reap waits, the hint arrives, and the key
// stays deleted.
func TestClusterReapWaitsForHints(t *testing.T) {
	c := newTestCluster(t, 5)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "zombie"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)
	c.stop(prims[2].Node)
	if _, err := cput(t, coord, loc, "brains", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.start(prims[2].Node)
	if err := cdelete(t, coord, loc, 3); err != nil {
		t.Fatal(err)
	}
	c.idle()
	c.clock.Advance(2 * coord.cfg.reapDelay())
	coord.reapers.Wait()
	for _, id := range c.ids {
		if _, err := c.node(id).HandOffHints(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cget(t, c.node(c.outside(loc)), loc, getOpts(3, 3))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key came back after hinted handoff: %v %v", values(got), err)
	}
}
