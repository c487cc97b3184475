package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// Anti-entropy index. Next to its data, every vnode p keeps in engine
// partition indexPartition(p) one small entry per key: (tree, segment,
// key) -> the hash of the key's version. The entry is written in the same
// atomic batch as the object, so after a crash the index still matches the
// data. It is what makes an exchange cheap: the keys of one segment are one
// short prefix scan, without reading values. The in-memory trees are the
// XOR of the index entries; every change of an entry changes them by the
// same delta, under the key's lock.

// indexBase marks the engine partitions that hold indexes. Ring sizes are
// far below 2^31, so they never meet data partitions, localPartition or
// the range Badger reserves.
const indexBase store.Partition = 1 << 31

func indexPartition(p int) store.Partition { return indexBase | store.Partition(p) }

// treeID names one tree of a vnode: the keys whose preference list starts
// at partition q and has n replicas (Riak's index_n). Two vnodes compare
// the trees they share; keys of other preference lists, or of another
// n_val, are not expected on the peer and so never show as differences.
type treeID struct{ q, n int }

const indexHeaderLen = 4 + 1 + 4

func indexKey(t treeID, seg int, key []byte) []byte {
	b := make([]byte, indexHeaderLen, indexHeaderLen+len(key))
	binary.BigEndian.PutUint32(b, uint32(t.q))
	b[4] = byte(t.n)
	binary.BigEndian.PutUint32(b[5:], uint32(seg))
	return append(b, key...)
}

// segmentPrefix is the prefix of every entry of tree t in segment seg.
func segmentPrefix(t treeID, seg int) []byte { return indexKey(t, seg, nil) }

func parseIndexKey(b []byte) (t treeID, seg int, key []byte, ok bool) {
	if len(b) <= indexHeaderLen {
		return treeID{}, 0, nil, false
	}
	t = treeID{q: int(binary.BigEndian.Uint32(b)), n: int(b[4])}
	return t, int(binary.BigEndian.Uint32(b[5:])), b[indexHeaderLen:], true
}

// indexOp is the write that sets key's entry in tree id, segment seg, of
// vnode p to h (0: deletes it).
func indexOp(p int, id treeID, seg int, key []byte, h uint64) store.Op {
	return store.Op{Partition: indexPartition(p), Key: indexKey(id, seg, key), Value: encodeHash(h), Delete: h == 0}
}

func encodeHash(h uint64) []byte { return binary.LittleEndian.AppendUint64(nil, h) }

func decodeHash(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// versionHash is the hash a key's entry holds for obj (0: no object).
func versionHash(key []byte, obj *object.Object) uint64 {
	if obj.IsEmpty() {
		return 0
	}
	var buf [256]byte
	return antientropy.KeyHash(key, obj.AppendVersion(buf[:0]))
}

// trees holds every vnode's trees in memory, created on first use.
type trees struct {
	segments int
	mu       sync.RWMutex
	vnodes   map[int]*vnodeTrees
}

type vnodeTrees struct {
	byID map[treeID]*antientropy.Tree
	keys int64 // entries in the vnode's index, under trees.mu
}

func newTrees(segments int) *trees {
	return &trees{segments: segments, vnodes: map[int]*vnodeTrees{}}
}

// get returns vnode p's tree id, creating it when create is set (nil
// otherwise when it does not exist).
func (ts *trees) get(p int, id treeID, create bool) *antientropy.Tree {
	ts.mu.RLock()
	t := ts.vnodes[p].tree(id)
	ts.mu.RUnlock()
	if t != nil || !create {
		return t
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	vt := ts.vnodes[p]
	if vt == nil {
		vt = &vnodeTrees{byID: map[treeID]*antientropy.Tree{}}
		ts.vnodes[p] = vt
	}
	if t = vt.byID[id]; t == nil {
		t = antientropy.NewTree(ts.segments)
		vt.byID[id] = t
	}
	return t
}

func (vt *vnodeTrees) tree(id treeID) *antientropy.Tree {
	if vt == nil {
		return nil
	}
	return vt.byID[id]
}

// update applies one entry's change to vnode p's tree id.
func (ts *trees) update(p int, id treeID, seg int, old, new uint64) {
	if old == new {
		return
	}
	ts.get(p, id, true).Update(seg, old, new)
	var d int64
	switch {
	case old == 0:
		d = 1
	case new == 0:
		d = -1
	}
	if d != 0 {
		ts.mu.Lock()
		if vt := ts.vnodes[p]; vt != nil {
			vt.keys += d
		}
		ts.mu.Unlock()
	}
}

// drop forgets vnode p's trees (its data and index were dropped).
func (ts *trees) drop(p int) {
	ts.mu.Lock()
	delete(ts.vnodes, p)
	ts.mu.Unlock()
}

// ids returns the trees vnode p holds.
func (ts *trees) ids(p int) []treeID {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	var out []treeID
	for id := range ts.vnodes[p].byIDOrNil() {
		out = append(out, id)
	}
	return out
}

func (vt *vnodeTrees) byIDOrNil() map[treeID]*antientropy.Tree {
	if vt == nil {
		return nil
	}
	return vt.byID
}

// keys returns how many entries vnode p's index holds.
func (ts *trees) keys(p int) int64 {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if vt := ts.vnodes[p]; vt != nil {
		return vt.keys
	}
	return 0
}

// nvals returns every n_val some local tree is for.
func (ts *trees) nvals() map[int]bool {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := map[int]bool{}
	for _, vt := range ts.vnodes {
		for id := range vt.byID {
			out[id.n] = true
		}
	}
	return out
}

// memory returns the bytes the trees' arrays use.
func (ts *trees) memory() int {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	total := 0
	for _, vt := range ts.vnodes {
		for _, t := range vt.byID {
			total += t.MemoryBytes()
		}
	}
	return total
}

// rebuild recomputes vnode p's trees from one sequential scan of its
// index and replaces them. The caller keeps writes to p out meanwhile
// (vnodes.rebuildTrees), so that no change falls between scan and swap.
func (ts *trees) rebuild(eng store.Engine, p int) error {
	vt := &vnodeTrees{byID: map[treeID]*antientropy.Tree{}}
	err := eng.Iterate(indexPartition(p), nil, func(k, v []byte) error {
		id, seg, _, ok := parseIndexKey(k)
		h, hok := decodeHash(v)
		// A damaged entry reads as absent everywhere (indexEntry), so it
		// stays out of the tree too; the next verify pass deletes it.
		if !ok || !hok || h == 0 || seg >= ts.segments {
			return nil
		}
		t := vt.byID[id]
		if t == nil {
			t = antientropy.NewTree(ts.segments)
			vt.byID[id] = t
		}
		t.Update(seg, 0, h)
		vt.keys++
		return nil
	})
	if err != nil {
		return fmt.Errorf("node: vnode %d: scan aae index: %w", p, err)
	}
	ts.mu.Lock()
	if len(vt.byID) == 0 {
		delete(ts.vnodes, p)
	} else {
		ts.vnodes[p] = vt
	}
	ts.mu.Unlock()
	return nil
}

// indexEntry reads the hash key's entry holds in tree id of vnode p (0
// when there is none).
func (v *vnodes) indexEntry(p int, id treeID, seg int, key []byte) (uint64, error) {
	raw, err := v.eng.Get(indexPartition(p), indexKey(id, seg, key))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("node: vnode %d: read aae index: %w", p, err)
	}
	h, ok := decodeHash(raw)
	if !ok {
		// A damaged entry: treat it as absent; the rebuild rewrites it.
		return 0, nil
	}
	return h, nil
}
