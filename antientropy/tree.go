package antientropy

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Tree is one hash tree: segments, their branches and a root, each the XOR
// of the key hashes below it. It is safe for concurrent use; every method
// holds a mutex for O(1) work, except the ones that copy or compare whole
// levels.
type Tree struct {
	mu       sync.Mutex
	shift    uint // log2(segments per branch): segment s is in branch s>>shift
	segments []uint64
	branches []uint64
	root     uint64
}

// NewTree returns an empty tree of segments segments. It panics if
// segments is not a power of two >= 4, a programming error: callers
// validate their Config first.
func NewTree(segments int) *Tree {
	if segments < 4 || !isPow2(segments) {
		panic(fmt.Sprintf("antientropy: %d segments is not a power of two >= 4", segments))
	}
	b := branchCount(segments)
	return &Tree{
		shift:    uint(bits.TrailingZeros(uint(segments / b))),
		segments: make([]uint64, segments),
		branches: make([]uint64, b),
	}
}

// Segments returns the number of segments.
func (t *Tree) Segments() int { return len(t.segments) }

// Branches returns the number of branches.
func (t *Tree) Branches() int { return len(t.branches) }

// SegmentsPerBranch returns the number of segments under each branch.
func (t *Tree) SegmentsPerBranch() int { return 1 << t.shift }

// Update records that a key of segment changed from hash old to hash new
// (0 on either side: absent). XOR being its own inverse, it XORs out old
// and XORs in new along the path to the root, without reading any other
// key. It panics if segment is out of range.
func (t *Tree) Update(segment int, old, new uint64) {
	if old == new {
		return
	}
	d := old ^ new
	t.mu.Lock()
	t.segments[segment] ^= d
	t.branches[segment>>t.shift] ^= d
	t.root ^= d
	t.mu.Unlock()
}

// Root returns the XOR of all key hashes in the tree.
func (t *Tree) Root() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.root
}

// BranchHashes returns a copy of the branch hashes.
func (t *Tree) BranchHashes() []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.branches)
}

// SegmentHashes returns a copy of the hashes of branch's segments, in
// order. It panics if branch is out of range.
func (t *Tree) SegmentHashes(branch int) []uint64 {
	per := t.SegmentsPerBranch()
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.segments[branch*per : (branch+1)*per])
}

// Equal reports whether t and o have the same shape and segment hashes.
func (t *Tree) Equal(o *Tree) bool {
	if t == o {
		return true
	}
	// Copy o before locking t, so that a.Equal(b) racing b.Equal(a)
	// cannot deadlock.
	o.mu.Lock()
	other := slices.Clone(o.segments)
	o.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Equal(t.segments, other)
}

// Reset empties the tree.
func (t *Tree) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.segments)
	clear(t.branches)
	t.root = 0
}

// MemoryBytes returns the bytes the tree's hash arrays use.
func (t *Tree) MemoryBytes() int { return 8 * (len(t.segments) + len(t.branches)) }

// Saved tree layout: a format byte, the segment count as a little-endian
// uint32, the segment hashes as little-endian uint64s, then the xxhash64 of
// everything before it. Branches and root are not saved: they are
// recomputed, so a saved tree cannot be internally inconsistent.
const (
	treeFormat = 1
	treeHeader = 1 + 4
	treeSum    = 8
)

// MarshalBinary encodes the tree for saving at shutdown, so that a restart
// does not need a full scan of the data.
func (t *Tree) MarshalBinary() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := make([]byte, treeHeader, treeHeader+8*len(t.segments)+treeSum)
	b[0] = treeFormat
	binary.LittleEndian.PutUint32(b[1:], uint32(len(t.segments)))
	for _, h := range t.segments {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b)), nil
}

// UnmarshalTree decodes a tree written by MarshalBinary. A wrong format,
// size or checksum gives an error wrapping ErrCorruptTree.
func UnmarshalTree(b []byte) (*Tree, error) {
	if len(b) < treeHeader+treeSum {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorruptTree, len(b))
	}
	if b[0] != treeFormat {
		return nil, fmt.Errorf("%w: unknown format %d", ErrCorruptTree, b[0])
	}
	n := int(binary.LittleEndian.Uint32(b[1:]))
	if n < 4 || n > maxSegments || !isPow2(n) {
		return nil, fmt.Errorf("%w: bad segment count %d", ErrCorruptTree, n)
	}
	if want := treeHeader + 8*n + treeSum; len(b) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d for %d segments", ErrCorruptTree, len(b), want, n)
	}
	body := b[:len(b)-treeSum]
	if binary.LittleEndian.Uint64(b[len(body):]) != xxhash.Sum64(body) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptTree)
	}
	t := NewTree(n)
	for i := range t.segments {
		h := binary.LittleEndian.Uint64(body[treeHeader+8*i:])
		t.segments[i] = h
		t.branches[i>>t.shift] ^= h
		t.root ^= h
	}
	return t, nil
}
