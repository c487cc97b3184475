package node

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// benchBadgerNode starts a standalone node with cfg on a Badger engine in
// production configuration, in a temporary directory; both close when b
// ends, the node first.
func benchBadgerNode(b *testing.B, cfg Config) (*Node, *store.Badger) {
	b.Helper()
	sc := store.DefaultConfig()
	sc.Dir = b.TempDir()
	eng, err := store.OpenBadger(sc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close() })
	n, err := New(cfg, eng, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Close() })
	return n, eng
}

// BenchmarkVNodeWrite measures one replica write on Badger (read, merge,
// encode, write), with the anti-entropy index entry and tree update and
// without, so the cost of keeping trees on every write is measured, not
// guessed.
func BenchmarkVNodeWrite(b *testing.B) {
	for _, indexed := range []bool{true, false} {
		name := "indexed"
		if !indexed {
			name = "unindexed"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultLocalConfig("bench")
			cfg.Logger = slog.New(slog.DiscardHandler)
			n, _ := benchBadgerNode(b, cfg)
			if !indexed {
				n.local.treeOf = func([]byte) (treeID, bool) { return treeID{}, false }
			}
			vn := ring.VNode{Partition: 3, Node: "bench"}
			value := make([]byte, 100)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				key := Location{Type: DefaultType, Bucket: "b", Key: "k" + strconv.Itoa(i%10000)}.Bytes()
				obj := object.New().Update(object.Context{}, object.Content{Value: value}, actor(vn))
				if _, err := n.local.PutReplica(ctx, vn, key, obj, ReplicaWrite{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
