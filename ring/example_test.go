package ring_test

import (
	"fmt"

	"github.com/cairnkv/cairn/ring"
)

func Example() {
	cfg := ring.DefaultConfig() // 64 partitions, XXHash
	r, err := ring.Claim(cfg, nil, []string{"a", "b", "c", "d"}, ring.DefaultTargetN)
	if err != nil {
		panic(err)
	}
	key := []byte("default/users/alice")
	p := r.PartitionOf(key)
	fmt.Println("partition", p, "replicas", r.Preflist(key, 3))

	// The second replica's node is down: a fallback holds that replica
	// until it returns.
	down := r.Owner((p + 1) % r.Size())
	for _, e := range r.PreflistWithFallbacks(p, 3, func(n string) bool { return n != down }) {
		fmt.Println(e.Partition, e.Node, e.Role, "for", e.Owner)
	}

	// A fifth node joins: it takes its share, 12 or 13 partitions.
	next, _ := ring.Claim(cfg, r, []string{"a", "b", "c", "d", "e"}, ring.DefaultTargetN)
	fmt.Println("epoch", next.Epoch(), "moves", len(ring.Moves(r, next)), "e owns", len(next.PartitionsOf("e")))
	// Output:
	// partition 3 replicas [{3 a} {4 b} {5 c}]
	// 3 a primary for a
	// 4 d fallback for b
	// 5 c primary for c
	// epoch 2 moves 12 e owns 12
}
