package node

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// FuzzPeerReplies is FuzzHandleRPC's other half: every peer of n1 answers
// every RPC with the same arbitrary bytes, and n1 runs one of the
// operations that decode a peer's reply (replica get and put, a forwarded
// put, a key listing, a hint check, a handoff batch, an anti-entropy
// exchange). No reply may crash n1 or hang it past the request's
// deadline; once its peers are honest again it serves as before.
func FuzzPeerReplies(f *testing.F) {
	obj := mustEncode(f, liveObject())
	for _, m := range []any{
		&getReplicaResp{Status: replicaFound, Object: obj},
		&getReplicaResp{Status: replicaCorrupt, Err: "bad"},
		&getReplicaResp{Status: 9},
		&putReplicaResp{Object: obj},
		&coordPutResp{Code: codeTooManySiblings, Msg: "too many"},
		&coordPutResp{Object: obj},
		&namesResp{Names: []string{"a", "b"}, More: true},
		&namesResp{Names: []string{"\xff"}},
		&holdsResp{Held: true},
		&batchResp{Merged: 3},
		&reapResp{Reaped: true},
		&aaeTreeResp{Hashes: []uint64{1}},
		&aaeTreeResp{Hashes: make([]uint64, 32), Levels: [][]uint64{{1, 2}, nil}},
		&aaeKeysResp{Segs: []int{0, 1 << 30}, Keys: [][]byte{nil, []byte("k")}, Hashes: []uint64{1}},
	} {
		b, _ := encodeMsg(m)
		for op := range peerOps {
			f.Add(uint8(op), b)
		}
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(6), []byte{0xc1})
	f.Fuzz(func(t *testing.T, op uint8, reply []byte) {
		c := newTestCluster(t, 5, func(cfg *Config) {
			cfg.ReplicaTimeout = 200 * time.Millisecond
			cfg.RequestTimeout = time.Second
		})
		lying := func(context.Context, string, []byte) ([]byte, error) { return slices.Clone(reply), nil }
		for _, id := range c.ids[1:] {
			c.tr.Listen(id, lying)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		peerOps[int(op)%len(peerOps)](ctx, t, c)
		if ctx.Err() != nil {
			t.Fatalf("op %d did not end within 5s on reply %x", int(op)%len(peerOps), reply)
		}
		for _, id := range c.ids[1:] {
			c.tr.Listen(id, c.node(id).HandleRPC)
		}
		loc := Location{Type: DefaultType, Bucket: "b", Key: "after"}
		if _, err := cput(t, c.node("n1"), loc, "ok", putOpts(1, 0, 0)); err != nil {
			t.Fatalf("n1 broken after reply %x: %v", reply, err)
		}
	})
}

// peerOps are the operations of n1 that decode its peers' replies. Their
// errors are expected: only crashes and hangs are findings.
var peerOps = []func(ctx context.Context, t *testing.T, c *testCluster){
	func(ctx context.Context, t *testing.T, c *testCluster) { // replica gets
		_, _ = c.node("n1").Get(ctx, Location{Type: DefaultType, Bucket: "b", Key: "k"}, getOpts(3, 0))
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // replica puts
		o := putOpts(3, 0, 0)
		o.ReturnBody = true
		_, _ = c.node("n1").Put(ctx, Location{Type: DefaultType, Bucket: "b", Key: "k"}, object.Content{Value: []byte("v")}, o)
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // a forwarded put
		loc := keyOutside(c, "n1")
		o := putOpts(1, 0, 0)
		o.ReturnBody = true
		_, _ = c.node("n1").Put(ctx, loc, object.Content{Value: []byte("v")}, o)
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // a listing
		_ = c.node("n1").ListKeys(ctx, DefaultType, "b", func(string) error { return nil })
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // hint checks
		_, _ = peers{c.node("n1").Node}.holds(ctx, "n2", Location{Type: DefaultType, Bucket: "b", Key: "k"}.Bytes(), []int{0, 1})
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // a handoff batch
		raw := mustEncode(t, liveObject())
		_ = c.node("n1").sendBatch(ctx, ring.VNode{Partition: 1, Node: "n2"}, []batchEntry{{key: []byte("k"), raw: raw}}, false)
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // reaping a tombstone
		tomb := object.New().Update(object.Context{}, object.Content{Deleted: true}, "a")
		_, _ = peers{c.node("n1").Node}.reap(ctx, ring.VNode{Partition: 1, Node: "n2"}, []byte("k"), tomb)
	},
	func(ctx context.Context, t *testing.T, c *testCluster) { // an anti-entropy exchange
		n1 := c.node("n1")
		p := c.ring.PartitionsOf("n1")[0]
		pl := c.ring.PreflistFor(p, 3)
		peer := pl[1]
		if peer.Node == "n1" {
			peer = pl[2]
		}
		n1.aae.mu.Lock()
		clear(n1.aae.unbuilt)
		n1.aae.mu.Unlock()
		_ = n1.aae.run(ctx, antientropy.ExchangeID{Partition: p, Peer: peer.Node, PeerPartition: peer.Partition, Primary: p, N: 3})
	},
}

// keyOutside is a key none of whose replicas is on node.
func keyOutside(c *testCluster, node string) Location {
	for _, l := range keysOf(c.ring, "fwd", 64, nil) {
		if !slices.ContainsFunc(c.primaries(l), func(v ring.VNode) bool { return v.Node == node }) {
			return l
		}
	}
	panic("every key has a replica on " + node)
}

// Found by FuzzPeerReplies: a peer that answers every page of a listing
// with the same names and More set kept ListKeys paging forever,
// gathering names without bound. Now the listing fails at once.
func TestListingFailsOnAPeerThatDoesNotAdvance(t *testing.T) {
	c := newTestCluster(t, 5)
	stuck, _ := encodeMsg(&namesResp{Names: []string{"a", "b"}, More: true})
	for _, id := range c.ids[1:] {
		c.tr.Listen(id, func(context.Context, string, []byte) ([]byte, error) { return stuck, nil })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.node("n1").ListKeys(ctx, DefaultType, "b", func(string) error { return nil })
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "not sorted after") {
		t.Fatalf("listing over a stuck peer: %v (context %v), want an error at once", err, ctx.Err())
	}
}
