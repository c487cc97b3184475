package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// A hint is implicit: an object this node stores under a partition it
// does not own was written here as a fallback for the partition's owner
// (sloppy quorum), or left behind when the partition moved to a new
// owner. Hints survive restarts with the data, since they are the data.
// Handing them off pushes each object to the owner, which merges it with
// its own copy (a DVV sync, never an overwrite), and deletes the local
// copy only once the owner holds it durably and only if it did not
// change meanwhile.

// hintBatch bounds the objects handed off between two durability points.
const hintBatch = 512

// HandOffHints makes one pass over the partitions this node holds data for
// but does not own, handing each to its owner when the owner is up. It
// returns how many objects it handed off. Errors stop the pass for that
// partition only; the first one is returned after the pass.
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
		k, err := n.handOffPartition(ctx, p, owner)
		total += k
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		n.metrics.hintsHandedOff.Add(uint64(total))
		n.log.Info("hinted handoff delivered", "objects", total)
	}
	return total, firstErr
}

// handOffPartition delivers partition p's objects to owner in batches.
func (n *Node) handOffPartition(ctx context.Context, p int, owner string) (int, error) {
	dst := ring.VNode{Partition: p, Node: owner}
	handed := 0
	for {
		type sent struct {
			key []byte
			obj *object.Object
		}
		var batch []sent
		err := n.eng.Iterate(store.Partition(p), nil, func(key, value []byte) error {
			obj, err := object.Decode(value)
			if err != nil {
				n.metrics.corruptReads.Add(1)
				n.log.Error("corrupt hinted object not handed off", "partition", p, "err", err)
				return nil
			}
			batch = append(batch, sent{append([]byte(nil), key...), obj})
			if len(batch) == hintBatch {
				return store.ErrStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrStop) {
			return handed, err
		}
		if len(batch) == 0 {
			return handed, nil
		}
		for i, s := range batch {
			// The last write of a batch waits for durability, which covers
			// every earlier one: the owner's engine syncs in write order.
			if _, err := n.replicas.PutReplica(ctx, dst, s.key, s.obj, i == len(batch)-1); err != nil {
				return handed, fmt.Errorf("node: handoff of partition %d to %s: %w", p, owner, err)
			}
		}
		kept := 0
		for _, s := range batch {
			// Compare-and-delete: a write that reached this copy after it
			// was sent keeps it for the next pass.
			ok, err := n.local.dropIfUnchanged(p, s.key, s.obj)
			if err != nil {
				return handed, err
			}
			if ok {
				handed++
			} else {
				kept++
			}
		}
		if kept == len(batch) {
			// Everything changed under us: leave it for the next pass
			// rather than spin.
			return handed, nil
		}
	}
}

// dropIfUnchanged deletes key from vnode p if it still holds exactly obj.
func (v *vnodes) dropIfUnchanged(p int, key []byte, obj *object.Object) (bool, error) {
	m := v.lock(p, key)
	defer m.Unlock()
	cur, err := v.load(p, key)
	if err != nil || cur == nil || !object.Equal(cur, obj) {
		return false, err
	}
	if err := v.eng.Delete(store.Partition(p), key); err != nil {
		return false, err
	}
	return true, nil
}
