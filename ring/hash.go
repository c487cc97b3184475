package ring

import "github.com/cespare/xxhash/v2"

// Hash maps a key's storage bytes (bucket type, bucket and key, already
// encoded by the caller) to 64 bits. It must be stable across processes,
// platforms and releases: every node must place a key in the same partition.
// The top log2(Size) bits choose the partition, so a Hash must spread its
// entropy into the high bits.
type Hash func(key []byte) uint64

// XXHash is the default Hash: 64-bit xxHash (XXH64, seed 0).
func XXHash(key []byte) uint64 { return xxhash.Sum64(key) }
