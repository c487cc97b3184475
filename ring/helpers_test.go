package ring_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/cairnkv/cairn/ring"
)

// hexHash is a readable fake Hash: the key is the hash, written as 16 hex
// digits. With 8 partitions "2000000000000000" is the first hash of
// partition 1.
func hexHash(key []byte) uint64 {
	v, err := strconv.ParseUint(string(key), 16, 64)
	if err != nil {
		panic(fmt.Sprintf("hexHash: %q: %v", key, err))
	}
	return v
}

func cfgOf(size int) ring.Config {
	return ring.Config{Size: size, Hash: hexHash}
}

// nodeNames returns k member ids, n00, n01, …
func nodeNames(k int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = fmt.Sprintf("n%02d", i)
	}
	return out
}

func mustNew(t testing.TB, cfg ring.Config, owners []string, epoch uint64) *ring.Ring {
	t.Helper()
	r, err := ring.New(cfg, owners, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// crowded reports the windows of n consecutive partitions with a repeated
// owner, by brute force, independently of Ring.Violations.
func crowded(owners []string, n int) []int {
	q := len(owners)
	var out []int
	for p := range q {
		seen := map[string]bool{}
		for i := range min(n, q) {
			o := owners[(p+i)%q]
			if seen[o] {
				out = append(out, p)
				break
			}
			seen[o] = true
		}
	}
	return out
}

// balanceError describes how r fails to give each of members floor(Q/M) or
// ceil(Q/M) partitions and nothing to anyone else; "" if it does not.
func balanceError(r *ring.Ring, members []string) string {
	q, m := r.Size(), len(members)
	counts := map[string]int{}
	for _, o := range r.Owners() {
		counts[o]++
	}
	for node, c := range counts {
		if !slices.Contains(members, node) {
			return fmt.Sprintf("non-member %s owns %d", node, c)
		}
	}
	for _, node := range members {
		if c := counts[node]; c < q/m || c > (q+m-1)/m {
			return fmt.Sprintf("%s owns %d of %d partitions with %d members", node, c, q, m)
		}
	}
	return ""
}

// roundRobin is the naive claim: recompute from scratch, partition p to
// the p%M-th member in sorted order.
func roundRobin(q int, members []string) []string {
	s := slices.Sorted(slices.Values(members))
	out := make([]string, q)
	for p := range out {
		out[p] = s[p%len(s)]
	}
	return out
}

func diff(a, b []string) int {
	k := 0
	for i := range a {
		if a[i] != b[i] {
			k++
		}
	}
	return k
}
