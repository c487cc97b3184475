package ring_test

import (
	"fmt"
	"testing"

	"github.com/cairnkv/cairn/ring"
)

func benchRing(b *testing.B, q, m int) *ring.Ring {
	b.Helper()
	r, err := ring.Claim(ring.Config{Size: q}, nil, nodeNames(m), ring.DefaultTargetN)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkPartitionOf(b *testing.B) {
	r := benchRing(b, 64, 8)
	key := []byte("default/users/alice@example.com")
	for b.Loop() {
		r.PartitionOf(key)
	}
}

func BenchmarkPreflist(b *testing.B) {
	r := benchRing(b, 64, 8)
	key := []byte("default/users/alice@example.com")
	b.ReportAllocs()
	for b.Loop() {
		r.Preflist(key, 3)
	}
}

func BenchmarkPreflistWithFallbacks(b *testing.B) {
	r := benchRing(b, 64, 8)
	p := r.PartitionOf([]byte("default/users/alice@example.com"))
	down := r.Owner(p)
	up := func(node string) bool { return node != down }
	b.ReportAllocs()
	for b.Loop() {
		r.PreflistWithFallbacks(p, 3, up)
	}
}

// BenchmarkClaim measures a new ring, a join (M to M+1) and a leave (M to
// M-1) on rings of 64 and 1024 partitions with 8 members.
func BenchmarkClaim(b *testing.B) {
	for _, q := range []int{64, 1024} {
		cfg := ring.Config{Size: q}
		members := nodeNames(8)
		r := benchRing(b, q, len(members))
		b.Run(fmt.Sprintf("Q=%d/new", q), func(b *testing.B) {
			for b.Loop() {
				if _, err := ring.Claim(cfg, nil, members, 3); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Q=%d/join", q), func(b *testing.B) {
			joined := append(nodeNames(8), "new")
			for b.Loop() {
				if _, err := ring.Claim(cfg, r, joined, 3); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Q=%d/leave", q), func(b *testing.B) {
			for b.Loop() {
				if _, err := ring.Claim(cfg, r, members[1:], 3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
