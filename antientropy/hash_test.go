package antientropy

import (
	"encoding/binary"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// The values every node and release must agree on: changing them makes
// upgraded nodes disagree with old ones about every key.
func TestHashesAreStable(t *testing.T) {
	for _, tc := range []struct {
		key     string
		segment int
		hash    uint64
	}{
		{"", 1500, 0xdd2e5342c0f2657a},
		{"a", 3347, 0x96e90bcaf6b0b223},
		{"users/42", 2423, 0x7532d136d12d4796},
		{"cairn", 521, 0x9d1a3ff498fc3500},
	} {
		k := []byte(tc.key)
		if got := SegmentOf(k, 4096); got != tc.segment {
			t.Errorf("SegmentOf(%q, 4096) = %d, want %d", tc.key, got, tc.segment)
		}
		if got, want := SegmentOf(k, 4096), int(xxhash.Sum64String(segmentSalt+tc.key)%4096); got != want {
			t.Errorf("SegmentOf(%q) = %d, not the salted xxhash's low bits %d", tc.key, got, want)
		}
		if got := KeyHash(k, []byte("v1")); got != tc.hash {
			t.Errorf("KeyHash(%q, v1) = %#x, want %#x", tc.key, got, tc.hash)
		}
		want := xxhash.Sum64(append(binary.AppendUvarint(nil, uint64(len(k))), append(k, "v1"...)...))
		if got := KeyHash(k, []byte("v1")); got != want {
			t.Errorf("KeyHash(%q, v1) = %#x, not xxhash of the length-prefixed input %#x", tc.key, got, want)
		}
	}
}

func TestKeyHashSeparatesKeyFromVersion(t *testing.T) {
	if KeyHash([]byte("ab"), []byte("c")) == KeyHash([]byte("a"), []byte("bc")) {
		t.Error("length prefix does not separate key and version")
	}
	if KeyHash([]byte("k"), []byte("v1")) == KeyHash([]byte("k"), []byte("v2")) {
		t.Error("versions of one key hash alike")
	}
}

func TestSegmentOfRange(t *testing.T) {
	for _, segs := range []int{4, 64, 4096} {
		seen := map[int]bool{}
		for i := range 20 * segs {
			s := SegmentOf(binary.AppendUvarint(nil, uint64(i)), segs)
			if s < 0 || s >= segs {
				t.Fatalf("SegmentOf(_, %d) = %d", segs, s)
			}
			seen[s] = true
		}
		if len(seen) != segs {
			t.Errorf("%d segments: only %d used by %d keys", segs, len(seen), 20*segs)
		}
	}
}

func BenchmarkKeyHash(b *testing.B) {
	key, version := []byte("bucket/users/key-000042"), []byte("vtag-abcdefghijklmnopqrstu")
	b.ReportAllocs()
	for b.Loop() {
		KeyHash(key, version)
	}
}
