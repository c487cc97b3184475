package sim

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing/synctest"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// repairTime is how long the checks let read repair run after their reads.
const repairTime = 2 * time.Second

// check runs once the cluster has settled, with every node up and every
// link restored, and records what does not hold.
func (s *sim) check() {
	h := s.hist
	if len(s.pending) > 0 {
		h.violate("ring changes unfinished after settling: %v still pending", s.pending)
	}
	byKey := map[string][]string{}
	for e, k := range h.acked {
		byKey[k] = append(byKey[k], e)
	}
	for k := range s.cfg.Keys {
		key := keyName(k)
		set, err := s.readAll(key)
		if err != nil {
			h.violate("read %s with r=all after settling: %v", key, err)
			continue
		}
		var lost []string
		for _, e := range byKey[key] {
			if !set[e] {
				lost = append(lost, e)
			}
		}
		slices.Sort(lost)
		h.lost += len(lost)
		if len(lost) > 0 {
			h.violate("%s: %d acknowledged element(s) lost: %v", key, len(lost), lost)
		}
		for e := range set {
			if !h.tried[e] {
				h.phantom++
				h.violate("%s: element %s present but never written", key, e)
			}
		}
		s.logf("check %s: %d elements, %d acknowledged", key, len(set), len(byKey[key]))
	}
	for _, key := range h.deleted {
		set, err := s.readAllAt(deleteLocation(key))
		switch {
		case err != nil:
			h.violate("read deleted %s with r=all after settling: %v", key, err)
		case len(set) > 0:
			h.violate("%s: deleted (acknowledged) but back: %v", key, slices.Sorted(maps.Keys(set)))
		}
	}
	s.logf("check: %d acknowledged deletes", len(h.deleted))
	// The reads above repaired what they found stale; let that finish.
	end := time.Now().Add(repairTime)
	for time.Now().Before(end) {
		s.step()
	}
	synctest.Wait() // what the last step woke writes no more
	s.checkReplicas()
	s.checkHints()
}

// readAll reads key with r=all through the first node, merging siblings.
// A read may fail while it finds a replica corrupt; it repairs the replica
// as it ends, so the read is tried again, a few times, as a client would.
func (s *sim) readAll(key string) (set map[string]bool, err error) {
	return s.readAllAt(location(key))
}

// readAllAt is readAll of any location.
func (s *sim) readAllAt(loc node.Location) (set map[string]bool, err error) {
	key := loc.Key
	for range 4 {
		if set, err = s.readAllOnce(loc); err == nil {
			return set, nil
		}
		s.logf("check %s: r=all read failed: %v", key, err)
		end := time.Now().Add(repairTime)
		for time.Now().Before(end) {
			s.step()
		}
	}
	return nil, err
}

func (s *sim) readAllOnce(loc node.Location) (map[string]bool, error) {
	n := s.handle(s.ids[0])
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	opts := node.DefaultGetOptions()
	opts.R = node.QuorumAll
	// The read starts once what the last step woke has run as far as it
	// can, not beside it: they may touch the same engines.
	synctest.Wait()
	done := make(chan struct{})
	var set map[string]bool
	var err error
	go func() {
		defer close(done)
		obj, gerr := n.Get(ctx, loc, opts)
		if gerr != nil && !errors.Is(gerr, node.ErrNotFound) {
			err = gerr
			return
		}
		set = members(obj)
	}()
	// The driver must keep moving messages while the read waits. It
	// looks for the end only once the reader has run as far as it can,
	// or whether it saw it would depend on the scheduler.
	for {
		synctest.Wait()
		select {
		case <-done:
			return set, err
		default:
			s.step()
		}
	}
}

// checkReplicas compares the stored bytes of every key on each of its
// primaries: after settling, they must be identical.
func (s *sim) checkReplicas() {
	for k := range s.cfg.Keys {
		key := keyName(k)
		lb := location(key).Bytes()
		var first []byte
		var firstAt string
		for i, vn := range s.ring.Preflist(lb, nVal) {
			v, err := s.nodes[vn.Node].mem.Get(store.Partition(vn.Partition), lb)
			if errors.Is(err, store.ErrNotFound) {
				v, err = nil, nil
			}
			if err != nil {
				s.hist.violate("%s on %s/%d: %v", key, vn.Node, vn.Partition, err)
				continue
			}
			if i == 0 {
				first, firstAt = v, vn.Node
				continue
			}
			if !bytes.Equal(first, v) {
				s.hist.violate("%s: replicas differ after settling: %s/%d has %d bytes, %s has %d", key, vn.Node, vn.Partition, len(v), firstAt, len(first))
			}
		}
	}
}

// checkHints looks for data a node holds under a partition it does not
// own: a fallback's hint that handoff never delivered or never dropped.
func (s *sim) checkHints() {
	for _, id := range s.ids {
		for q := range ringSize {
			if s.ring.Owner(q) == id {
				continue
			}
			data, err := s.nodes[id].mem.Dump(store.Partition(q))
			if err != nil {
				s.hist.violate("dump %s/%d: %v", id, q, err)
				continue
			}
			if len(data) > 0 {
				s.hist.violate("%s still holds %d key(s) of partition %d, owned by %s: a hint left behind", id, len(data), q, s.ring.Owner(q))
			}
		}
	}
}

// watchReaps returns a fault rule's match function for node id's engine
// that never injects anything: it sees every delete the node makes before
// the engine does, and when the node deletes a tombstone of the delete
// workload from a partition it owns (a reap), it checks that no other
// primary of the key holds a live value the tombstone was meant to hide.
// A reap while a primary lacks the tombstone is how a delete comes back;
// this catches it when it happens, not only if the value later resurfaces.
func (s *sim) watchReaps(id string) func(store.Call) bool {
	return func(c store.Call) bool {
		if !c.Delete || int(c.Partition) >= ringSize {
			return false // not a delete, or not of a data partition
		}
		if loc, err := node.ParseLocation(c.Key); err != nil || loc.Bucket != deleteLocation("").Bucket {
			return false
		}
		r := s.committedRing()
		if r.Owner(int(c.Partition)) != id {
			return false // a hint or a handed-on copy dropped, not a reap
		}
		if o := s.stored(id, int(c.Partition), c.Key); o == nil || !o.IsTombstone() {
			return false
		}
		for _, vn := range r.Preflist(c.Key, nVal) {
			if vn.Node == id && vn.Partition == int(c.Partition) {
				continue
			}
			if o := s.stored(vn.Node, vn.Partition, c.Key); o != nil && !o.IsTombstone() {
				loc, _ := node.ParseLocation(c.Key)
				s.hist.violate("%s: tombstone reaped on %s/%d while primary %s/%d holds a live value", loc.Key, id, c.Partition, vn.Node, vn.Partition)
			}
		}
		return false
	}
}

// stored is the object node id holds for key in partition p, straight
// from its engine; nil when absent or unreadable.
func (s *sim) stored(id string, p int, key []byte) *object.Object {
	raw, err := s.nodes[id].mem.Get(store.Partition(p), key)
	if err != nil {
		return nil
	}
	o, err := object.Decode(raw)
	if err != nil {
		return nil
	}
	return o
}
