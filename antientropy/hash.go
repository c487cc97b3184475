package antientropy

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// segmentSalt makes a key's segment independent of its partition: the
// ring also hashes keys with xxhash, so every key of one partition shares
// the top bits of its unsalted hash. It is part of the wire contract:
// changing it makes every node's trees disagree with every other's.
const segmentSalt = "cairnaae"

// SegmentOf returns key's segment in a tree of segments segments (a power
// of two). It is stable across processes, versions and machines: the low
// bits of xxhash64 over a fixed 8-byte salt followed by key.
func SegmentOf(key []byte, segments int) int {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(segmentSalt)
	d.Write(key)
	return int(d.Sum64() & uint64(segments-1))
}

// KeyHash returns the hash of one (key, version) pair: xxhash64 over the
// key's length as a uvarint, the key, then version. The key is hashed too
// so that two keys swapping versions do not cancel out in a XOR; the
// length prefix keeps ("ab", "c") apart from ("a", "bc"). It is never 0,
// which means absent: a 0 hash maps to 1.
func KeyHash(key, version []byte) uint64 {
	var n [binary.MaxVarintLen64]byte
	var d xxhash.Digest
	d.Reset()
	d.Write(n[:binary.PutUvarint(n[:], uint64(len(key)))])
	d.Write(key)
	d.Write(version)
	if h := d.Sum64(); h != 0 {
		return h
	}
	return 1
}
