package node

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// verify checks vnode p's index against its data and fixes it, then
// recomputes the vnode's trees from the index. It is the long-period
// rebuild that catches what the write path cannot see: a value damaged on
// disk (its entry is removed, so an exchange finds the key missing here
// and fetches it from a replica), data or index entries lost or left
// behind outside the node. It reads every object of the vnode once,
// rate-limited, and holds each key's lock only while checking that key.
// It returns the number of entries the vnode's index holds.
func (a *aae) verify(ctx context.Context, p int) (int64, error) {
	v := a.n.local
	var lim *rate.Limiter
	if bps := a.cfg.RebuildBytesPerSecond; bps > 0 {
		lim = rate.NewLimiter(rate.Limit(bps), max(bps/10, 64<<10))
	}
	clk := a.n.cfg.Clock
	fixed := 0
	// Every stored object has the entry its version calls for.
	err := v.eng.Iterate(store.Partition(p), nil, func(key, value []byte) error {
		if err := pace(ctx, clk, lim, len(key)+len(value)); err != nil {
			return err
		}
		f, err := v.verifyKey(p, key)
		if f {
			fixed++
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("node: verify vnode %d: %w", p, err)
	}
	// Every entry has its object.
	err = v.eng.Iterate(indexPartition(p), nil, func(k, val []byte) error {
		if err := pace(ctx, clk, lim, len(k)+len(val)); err != nil {
			return err
		}
		f, err := v.verifyEntry(p, k)
		if f {
			fixed++
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("node: verify vnode %d: %w", p, err)
	}
	if err := v.rebuildTrees(p); err != nil {
		return 0, err
	}
	if fixed > 0 {
		a.n.log.Warn("anti-entropy verify fixed index entries", "partition", p, "entries", fixed)
	}
	return v.trees.keys(p), nil
}

// verifyKey makes key's entry match its stored object (none for one of a
// newer version). A corrupt object is deleted with its entry: no version
// of cairn can read it, a good replica's copy comes back with the next
// exchange (the trees then differ), and while it stayed, reads that ask
// every replica failed on it even where no replica held anything else.
// It reports whether it changed anything.
func (v *vnodes) verifyKey(p int, key []byte) (bool, error) {
	id, indexed := v.treeOf(key)
	if !indexed {
		return false, nil
	}
	m := v.lock(p, key)
	defer m.Unlock()
	obj, err := v.load(p, key)
	if errors.Is(err, object.ErrCorrupt) {
		if err := v.write(p, key, nil, oldHash{}, 0); err != nil {
			return false, err
		}
		loc, _ := ParseLocation(key)
		v.log.Warn("anti-entropy verify deleted a corrupt object; a good replica's copy replaces it", "partition", p, "key", loc.String())
		return true, nil
	}
	if err != nil && !errors.Is(err, object.ErrVersion) {
		return false, err
	}
	return v.setEntry(p, id, key, versionHash(key, obj))
}

// verifyEntry removes the index entry k when no object stands behind it
// (the object is gone, or now belongs to another tree).
func (v *vnodes) verifyEntry(p int, k []byte) (bool, error) {
	id, seg, key, ok := parseIndexKey(k)
	if !ok {
		return true, v.eng.Delete(indexPartition(p), k)
	}
	key = append([]byte(nil), key...)
	m := v.lock(p, key)
	defer m.Unlock()
	cur, indexed := v.treeOf(key)
	if indexed && cur == id && seg == antientropy.SegmentOf(key, v.trees.segments) {
		_, err := v.eng.Get(store.Partition(p), key)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return v.setEntryAt(p, id, seg, key, 0)
}

// setEntry sets key's entry in tree id to h (0: removes it); the caller
// holds the key's lock.
func (v *vnodes) setEntry(p int, id treeID, key []byte, h uint64) (bool, error) {
	return v.setEntryAt(p, id, antientropy.SegmentOf(key, v.trees.segments), key, h)
}

// setEntryAt is setEntry for the entry in segment seg, which need not be
// the key's segment under this node's tree shape (a stale entry).
func (v *vnodes) setEntryAt(p int, id treeID, seg int, key []byte, h uint64) (bool, error) {
	w := &v.writers[p%len(v.writers)]
	w.RLock()
	defer w.RUnlock()
	old, err := v.indexEntry(p, id, seg, key)
	// A removal is written even when the entry reads as absent: it may
	// be there, damaged (indexEntry reads that as absent too).
	if err != nil || (old == h && h != 0) {
		return false, err
	}
	if err := v.eng.Write([]store.Op{indexOp(p, id, seg, key, h)}); err != nil {
		return false, fmt.Errorf("node: vnode %d: write aae index: %w", p, err)
	}
	v.trees.update(p, id, seg, old, h)
	return old != h, nil
}
