package node

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// Tombstones are reaped as Riak's delete_mode does by default: some time
// (Config.ReapGrace) after a delete, or after a read that found every
// primary holding the same tombstone, the coordinator reads every primary
// again and, only if all of them are up and hold that very tombstone,
// asks each to delete it if it still holds it. A primary that lacks the
// tombstone, a down primary or a partition in the middle of a move keeps
// the tombstone in place, so a deleted value cannot come back from a
// replica that missed the delete. A later read reschedules the reap.

// reapDelay is how long a reap waits: the grace period, and never less
// than RequestTimeout. A put of the key coordinated before the delete may
// still have replica writes under way (a fallback tried after a replica
// timed out, a read repair) until its request deadline, which every
// replica write carries and its receiver enforces. Reaped before that,
// such a late write would bring the deleted value back; the simulation
// found it (seeds 39, 74, 83, 88 and 114 of node/sim).
func (c Config) reapDelay() time.Duration { return max(c.ReapGrace, c.RequestTimeout) }

// scheduleReap arranges a reap attempt of key after reapDelay.
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
	t := n.cfg.Clock.NewTimer(n.cfg.reapDelay())
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
	if n.hintsOutstanding(ctx, rt, key, prims) {
		return 0
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

// hintsOutstanding reports whether some member other than a vnode's
// owner may hold a copy of key under one of the preference list's
// partitions: a fallback's hint not yet handed off. Such a copy may be
// older than the tombstone, and handing it off after the reap would bring
// the deleted value back; so a reap waits until every member is up and
// none holds one. One kv.holds call per member.
func (n *Node) hintsOutstanding(ctx context.Context, rt *routing, key []byte, prims []ring.VNode) bool {
	members := slices.Sorted(maps.Keys(rt.addrs))
	if !slices.Contains(members, n.cfg.NodeID) {
		members = append(members, n.cfg.NodeID)
	}
	held := make([]bool, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		if !n.live.Up(m) {
			return true
		}
		var parts []int
		for _, vn := range prims {
			if vn.Node != m && !slices.Contains(parts, vn.Partition) {
				parts = append(parts, vn.Partition)
			}
		}
		if len(parts) == 0 {
			continue
		}
		wg.Go(func() {
			h, err := peers{n}.holds(ctx, m, key, parts)
			held[i] = h || err != nil
		})
	}
	wg.Wait()
	return slices.Contains(held, true)
}

// holds reports whether any of vnodes parts on this node has key (a
// corrupt copy counts: it is something).
func (v *vnodes) holds(key []byte, parts []int) (bool, error) {
	for _, p := range parts {
		_, err := v.eng.Get(store.Partition(p), key)
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
	}
	return false, nil
}

// reap deletes key from vnode p if it holds exactly tomb.
func (v *vnodes) reap(p int, key []byte, tomb *object.Object) (bool, error) {
	return v.dropIfUnchanged(p, key, tomb)
}
