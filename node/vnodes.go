package node

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// vnodes are this node's replicas: every partition's objects in one engine,
// one contiguous key range per partition. They implement Replicas for
// partitions owned locally and the coordinator's local read-modify-write.
type vnodes struct {
	eng     store.Engine
	log     *slog.Logger
	corrupt *atomic.Uint64
	// lost, when set, is told that a stored copy was found corrupt: the
	// dots it held are gone from this vnode.
	lost func()
	// locks serialise read-merge-write of one key on one vnode: a striped
	// set, so memory does not grow with the number of keys.
	locks [256]sync.Mutex
	seed  maphash.Seed

	// trees are the vnodes' anti-entropy trees; treeOf says which tree a
	// key belongs to (false: none, the key is not indexed).
	trees  *trees
	treeOf func(key []byte) (treeID, bool)
	// writers is taken shared by every write to a vnode and exclusively
	// while the vnode's trees are recomputed from its index; striped by
	// partition.
	writers [64]sync.RWMutex
}

var _ Replicas = (*vnodes)(nil)

func newVNodes(eng store.Engine, log *slog.Logger, corrupt *atomic.Uint64, ts *trees, treeOf func([]byte) (treeID, bool)) *vnodes {
	return &vnodes{eng: eng, log: log, corrupt: corrupt, seed: maphash.MakeSeed(), trees: ts, treeOf: treeOf}
}

func (v *vnodes) lock(p int, key []byte) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(v.seed)
	h.Write(key)
	m := &v.locks[(h.Sum64()+uint64(p))%uint64(len(v.locks))]
	m.Lock()
	return m
}

// load reads and verifies the stored object. A value that fails
// verification is logged with its key and returned as an error wrapping
// object.ErrCorrupt; it is never returned as data.
func (v *vnodes) load(p int, key []byte) (*object.Object, error) {
	obj, _, err := v.loadRaw(p, key)
	return obj, err
}

// loadRaw is load that also returns the stored encoding of the object,
// verified by its decoding: a peer can be sent those bytes as they are
// rather than an encoding of the decoded object.
func (v *vnodes) loadRaw(p int, key []byte) (*object.Object, []byte, error) {
	raw, found, err := v.read(p, key)
	if !found || err != nil {
		return nil, nil, err
	}
	obj, err := object.Decode(raw)
	if err != nil {
		return nil, nil, v.corruptErr(p, key, err)
	}
	return obj, raw, nil
}

// loadVerified returns the stored encoding of the object (nil when there
// is none) checked against its checksum but not parsed: a replica sends
// it to a coordinator, which parses it anyway. A value that fails the
// check is handled as load handles it.
func (v *vnodes) loadVerified(p int, key []byte) ([]byte, error) {
	raw, found, err := v.read(p, key)
	if !found || err != nil {
		return nil, err
	}
	if err := object.Verify(raw); err != nil {
		return nil, v.corruptErr(p, key, err)
	}
	return raw, nil
}

// read returns the stored bytes of (p, key), if there are any (an empty
// value is found, and then fails verification).
func (v *vnodes) read(p int, key []byte) (raw []byte, found bool, err error) {
	raw, err = v.eng.Get(store.Partition(p), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("node: vnode %d: read: %w", p, err)
	}
	return raw, true, nil
}

// corruptErr counts, reports and logs stored bytes of (p, key) that
// failed verification with err, and returns the error to answer with.
func (v *vnodes) corruptErr(p int, key []byte, err error) error {
	v.corrupt.Add(1)
	if v.lost != nil {
		v.lost()
	}
	loc, _ := ParseLocation(key)
	v.log.Error("corrupt stored object", "partition", p, "key", loc.String(), "err", err)
	return fmt.Errorf("node: vnode %d: key %s: %w", p, loc, err)
}

// remove deletes (p, key), which holds cur, and its index entry; the
// caller holds the lock.
func (v *vnodes) remove(p int, key []byte, cur *object.Object) error {
	return v.write(p, key, nil, oldHash{h: versionHash(key, cur), known: true}, 0)
}

// oldHash is the hash a key's index entry holds before a write, when the
// writer knows it.
type oldHash struct {
	h     uint64
	known bool
}

// write stores raw (nil: deletes the key) with index hash h (0: no entry).
func (v *vnodes) write(p int, key, raw []byte, prev oldHash, h uint64) error {
	id, indexed := v.treeOf(key)
	if !indexed {
		var err error
		if raw == nil {
			err = v.eng.Delete(store.Partition(p), key)
		} else {
			err = v.eng.Put(store.Partition(p), key, raw)
		}
		if err != nil {
			return fmt.Errorf("node: vnode %d: write: %w", p, err)
		}
		return nil
	}
	w := &v.writers[p%len(v.writers)]
	w.RLock()
	defer w.RUnlock()
	seg := antientropy.SegmentOf(key, v.trees.segments)
	old := prev.h
	if !prev.known {
		var err error
		if old, err = v.indexEntry(p, id, seg, key); err != nil {
			return err
		}
	}
	ops := [2]store.Op{
		{Partition: store.Partition(p), Key: key, Value: raw, Delete: raw == nil},
		indexOp(p, id, seg, key, h),
	}
	if err := v.eng.Write(ops[:]); err != nil {
		return fmt.Errorf("node: vnode %d: write: %w", p, err)
	}
	v.trees.update(p, id, seg, old, h)
	return nil
}

// GetReplica implements Replicas for a local vnode.
func (v *vnodes) GetReplica(_ context.Context, vn ring.VNode, key []byte) (*object.Object, error) {
	return v.load(vn.Partition, key)
}

// PutReplica implements Replicas for a local vnode.
func (v *vnodes) PutReplica(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, w ReplicaWrite) (*object.Object, error) {
	merged, _, err := v.putReplicaEncoded(ctx, vn, key, obj, w.Durable)
	return merged, err
}

// putReplicaEncoded is PutReplica that also returns the merged object's
// encoding (see modifyEncoded).
func (v *vnodes) putReplicaEncoded(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, durable bool) (*object.Object, []byte, error) {
	return v.modifyEncoded(ctx, vn.Partition, key, durable, func(cur *object.Object) *object.Object {
		return object.Sync(cur, obj)
	})
}

// modify runs a read-modify-write of key on vnode p under the key's lock. A
// corrupt stored copy is treated as absent so that the write replaces it.
// When f returns an object equal to the current one nothing is written.
func (v *vnodes) modify(ctx context.Context, p int, key []byte, durable bool, f func(cur *object.Object) *object.Object) (*object.Object, error) {
	next, _, err := v.modifyEncoded(ctx, p, key, durable, f)
	return next, err
}

// modifyEncoded is modify that also returns the encoding of the object it
// returns: the bytes it stored, or, when nothing was written, the stored
// bytes it read. Callers that send the object to a peer use them rather
// than encode it again.
func (v *vnodes) modifyEncoded(ctx context.Context, p int, key []byte, durable bool, f func(cur *object.Object) *object.Object) (*object.Object, []byte, error) {
	w, err := v.prepare(ctx, p, key, f)
	if err != nil {
		return nil, nil, err
	}
	if err := w.commit(false); err != nil {
		return nil, nil, err
	}
	if durable {
		// The write happened under the lock; waiting for durability does
		// not, so concurrent writers share one group commit.
		if err := v.eng.WaitDurable(ctx); err != nil {
			return nil, nil, fmt.Errorf("node: vnode %d: sync: %w", p, err)
		}
	}
	return w.next, w.raw, nil
}

// preparedWrite is a read-modify-write of one key between its two halves:
// prepare read the stored copy and made the new object under the key's
// lock, which it still holds when there is something to store; commit
// stores it and releases the lock. The halves may run on different
// goroutines: a coordinator prepares on the request's and commits on the
// one that reports its own replica, so that the other replicas are sent
// the object without waiting for it to be stored here, and a write waits
// on its coordinator's engine only as on any replica's.
type preparedWrite struct {
	v             *vnodes
	p             int
	key           []byte
	cur           *object.Object
	curUnreadable bool
	// next is the new object and raw its encoding; when unchanged, next is
	// the stored object and raw its stored bytes.
	next *object.Object
	raw  []byte
	// m is the key's lock while there is something to store, nil after
	// (or when there was nothing).
	m *sync.Mutex
}

// prepare reads key on vnode p and makes f's object of it. A corrupt
// stored copy is treated as absent so that the write replaces it; an
// object equal to the stored one (or none) leaves nothing to store.
func (v *vnodes) prepare(ctx context.Context, p int, key []byte, f func(cur *object.Object) *object.Object) (*preparedWrite, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := v.lock(p, key)
	cur, raw, err := v.loadRaw(p, key)
	if err != nil && !errors.Is(err, object.ErrCorrupt) && !errors.Is(err, object.ErrVersion) {
		m.Unlock()
		return nil, err
	}
	w := &preparedWrite{v: v, p: p, key: key, cur: cur, curUnreadable: err != nil, raw: raw}
	w.next = f(cur)
	if w.next == nil || cur != nil && object.Equal(cur, w.next) {
		m.Unlock()
		return w, nil
	}
	if w.raw, err = object.Encode(w.next); err != nil {
		m.Unlock()
		return nil, fmt.Errorf("node: vnode %d: encode: %w", p, err)
	}
	w.m = m
	return w, nil
}

// commit stores the prepared object, if there is one, with its
// anti-entropy index entry in one atomic batch, moves the key's tree by
// the entry's change, and releases the key's lock. The entry replaced is
// the one cur's version calls for, which saves reading it on every write;
// only when cur could not be read (corrupt) is the entry itself read. An
// entry that was wrong all the same leaves the tree off by its error until
// the vnode's next verify, which recomputes the trees from the index.
//
// sent says the object already went to other replicas. It carries a new
// dot of this vnode's actor, which may then be on them and not here;
// issued again, that dot would name two writes and a merge would drop one
// of them. So a failed store of a sent object reports this node's dots
// lost (as a corrupt read does): its actors stop being used, and its next
// write of the key takes a new epoch. That happens before the lock is
// released, so no later write of the key sees the old actor.
func (w *preparedWrite) commit(sent bool) error {
	if w.m == nil {
		return nil
	}
	defer w.release()
	old := oldHash{h: versionHash(w.key, w.cur), known: !w.curUnreadable}
	if err := w.v.write(w.p, w.key, w.raw, old, versionHash(w.key, w.next)); err != nil {
		if sent && w.v.lost != nil {
			w.v.lost()
		}
		return err
	}
	return nil
}

// release gives up a prepared write without storing it (commit releases
// too).
func (w *preparedWrite) release() {
	if w.m != nil {
		w.m.Unlock()
		w.m = nil
	}
}

// dropPartition deletes vnode p's data, its index and its trees.
func (v *vnodes) dropPartition(p int) error {
	if err := v.eng.DropPartition(store.Partition(p)); err != nil {
		return err
	}
	w := &v.writers[p%len(v.writers)]
	w.Lock()
	defer w.Unlock()
	if err := v.eng.DropPartition(indexPartition(p)); err != nil {
		return err
	}
	v.trees.drop(p)
	return nil
}

// rebuildTrees recomputes vnode p's trees from its index, with writes to p
// held off for the scan (short: index entries are small).
func (v *vnodes) rebuildTrees(p int) error {
	w := &v.writers[p%len(v.writers)]
	w.Lock()
	defer w.Unlock()
	return v.trees.rebuild(v.eng, p)
}
