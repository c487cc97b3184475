package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// A hint is implicit: an object this node stores under a partition it
// does not own was written here as a fallback for the partition's owner
// (sloppy quorum), or left behind when the partition moved to a new
// owner. Hints survive restarts with the data, since they are the data.
// Handing them off pushes each object to the owner, which merges it with
// its own copy (a DVV sync, never an overwrite), and deletes the local
// copy only once the owner holds it durably and only if it did not
// change meanwhile.

// HandOffHints makes one pass over the partitions this node holds data for
// but does not own, delivering each to its owner when the owner is up and
// the partition is not moving, as the handoff loop does but at once and
// without waiting out a drop grace. It returns how many objects it
// delivered. Errors stop the pass for that partition only; the first one
// is returned after the pass.
func (n *Node) HandOffHints(ctx context.Context) (int, error) {
	rt := n.routing.Load()
	if rt == nil {
		return 0, nil
	}
	var (
		total    int
		firstErr error
	)
	for p := range rt.ring.Size() {
		owner := rt.ring.Owner(p)
		if owner == n.cfg.NodeID || !n.live.Up(owner) {
			continue
		}
		if _, moving := rt.pending[p]; moving {
			continue
		}
		err := n.handoff.deliver(ctx, p, owner, nil, true, func(keys, _ int, _ []byte) { total += keys })
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("node: handoff of partition %d to %s: %w", p, owner, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		n.log.Info("hinted handoff delivered", "objects", total)
	}
	return total, firstErr
}

// dropCorrupt deletes key from vnode p if it still holds exactly raw and
// raw still fails verification.
func (v *vnodes) dropCorrupt(p int, key, raw []byte) (bool, error) {
	m := v.lock(p, key)
	defer m.Unlock()
	cur, err := v.eng.Get(store.Partition(p), key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node: vnode %d: read: %w", p, err)
	}
	if !bytes.Equal(cur, raw) {
		return false, nil
	}
	if _, err := object.Decode(cur); err == nil {
		return false, nil
	}
	if err := v.write(p, key, nil, oldHash{}, 0); err != nil {
		return false, err
	}
	return true, nil
}

// dropIfUnchanged deletes key from vnode p if it still holds exactly obj.
func (v *vnodes) dropIfUnchanged(p int, key []byte, obj *object.Object) (bool, error) {
	m := v.lock(p, key)
	defer m.Unlock()
	cur, err := v.load(p, key)
	if err != nil || cur == nil || !object.Equal(cur, obj) {
		return false, err
	}
	if err := v.remove(p, key, cur); err != nil {
		return false, err
	}
	return true, nil
}
