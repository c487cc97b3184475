package node

import (
	"context"
	"sync"

	"github.com/cairnkv/cairn/node/object"
)

// Tombstones are reaped as Riak's delete_mode does by default: some time
// (Config.ReapGrace) after a delete, or after a read that found every
// primary holding the same tombstone, the coordinator reads every primary
// again and, only if all of them are up and hold that very tombstone,
// asks each to delete it if it still holds it. A primary that lacks the
// tombstone, a down primary or a partition in the middle of a move keeps
// the tombstone in place, so a deleted value cannot come back from a
// replica that missed the delete. A later read reschedules the reap.

// scheduleReap arranges a reap attempt of key after the grace period.
// Attempts for one key do not pile up: one waits at a time.
func (n *Node) scheduleReap(key []byte, nval int) {
	if n.cfg.ReapGrace < 0 {
		return
	}
	k := string(key)
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return
	}
	n.reapMu.Lock()
	if n.reaping[k] {
		n.reapMu.Unlock()
		return
	}
	n.reaping[k] = true
	n.reapMu.Unlock()
	n.reapers.Add(1)
	t := n.cfg.Clock.NewTimer(n.cfg.ReapGrace)
	go func() {
		defer n.reapers.Done()
		defer func() {
			n.reapMu.Lock()
			delete(n.reaping, k)
			n.reapMu.Unlock()
		}()
		defer t.Stop()
		select {
		case <-t.C():
		case <-n.ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
		defer cancel()
		n.reap(ctx, []byte(k), nval)
	}()
}

// reap deletes key's tombstone from every primary if all of them hold it.
// It returns how many vnodes deleted it.
func (n *Node) reap(ctx context.Context, key []byte, nval int) int {
	rt := n.routing.Load()
	part := rt.ring.PartitionOf(key)
	prims := rt.ring.PreflistFor(part, nval)
	for _, vn := range prims {
		if _, moving := rt.pending[vn.Partition]; moving || !n.live.Up(vn.Node) {
			return 0
		}
	}
	objs := make([]*object.Object, len(prims))
	errs := make([]error, len(prims))
	var wg sync.WaitGroup
	for i, vn := range prims {
		wg.Go(func() { objs[i], errs[i] = n.replicas.GetReplica(ctx, vn, key) })
	}
	wg.Wait()
	tomb := objs[0]
	for i := range prims {
		if errs[i] != nil || objs[i] == nil || !objs[i].IsTombstone() || !object.Equal(objs[i], tomb) {
			return 0
		}
	}
	reaped := 0
	for _, vn := range prims {
		ok, err := peers{n}.reap(ctx, vn, key, tomb)
		if err != nil {
			n.log.Debug("reap failed; the tombstone stays", "vnode", vnodeName(vn), "err", err)
			continue
		}
		if ok {
			reaped++
		}
	}
	n.metrics.reaped.Add(uint64(reaped))
	return reaped
}

// reap deletes key from vnode p if it holds exactly tomb.
func (v *vnodes) reap(p int, key []byte, tomb *object.Object) (bool, error) {
	return v.dropIfUnchanged(p, key, tomb)
}
