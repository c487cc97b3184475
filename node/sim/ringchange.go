package sim

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// The driver plays the metadata plane's part in ring changes, as the
// cluster's Raft group does outside a simulation: it plans a join or a
// leave (ring.Claim, then a pending transfer for each partition that
// moves), publishes the committed ring with its pending moves, and
// commits each transfer that a node's ownership handoff reports done by
// making its receiver the owner. A node learns a new ring only while it
// can reach a majority of the cluster, as a Raft follower in a minority
// lags; a crashed node learns it when it restarts.

// topology is the committed layout: the ring, its pending moves, and the
// nodes' addresses (their ids on the step network).
func (s *sim) topology() node.Topology {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := map[string]string{}
	for _, id := range s.ids {
		addrs[id] = id
	}
	return node.Topology{Ring: s.ring, Pending: slices.Clone(s.pending), Addrs: addrs}
}

// committedRing is the ring as committed now.
func (s *sim) committedRing() *ring.Ring {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ring
}

// completeTransfer is every node's handoff completion: it queues the
// transfer for the driver, which commits it at its next step, so that
// completions that happen at one instant commit in an order of their own
// and not the scheduler's. It refuses a transfer that is not pending (a
// duplicate, or one a later plan replaced), as the metadata plane does.
func (s *sim) completeTransfer(_ context.Context, t node.Transfer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.pending, t) {
		return fmt.Errorf("sim: transfer of partition %d from %s to %s is not pending", t.Partition, t.From, t.To)
	}
	if !slices.Contains(s.completed, t) {
		s.completed = append(s.completed, t)
	}
	return nil
}

// commitTransfers commits the completions queued since the last step and
// publishes the ring that results. It reports whether it committed any.
func (s *sim) commitTransfers() bool {
	s.mu.Lock()
	done := s.completed
	s.completed = nil
	if len(done) == 0 {
		s.mu.Unlock()
		return false
	}
	slices.SortFunc(done, func(a, b node.Transfer) int { return cmp.Compare(a.Partition, b.Partition) })
	owners := s.ring.Owners()
	var moved []string
	for _, t := range done {
		i := slices.Index(s.pending, t)
		if i < 0 {
			continue
		}
		s.pending = slices.Delete(s.pending, i, i+1)
		owners[t.Partition] = t.To
		moved = append(moved, fmt.Sprintf("%d:%s>%s", t.Partition, t.From, t.To))
	}
	next, err := ring.New(ring.Config{Size: ringSize}, owners, s.ring.Epoch()+1)
	if err != nil {
		s.mu.Unlock()
		s.hist.violate("commit transfers %v: %v", moved, err)
		return true
	}
	s.ring = next
	left := len(s.pending)
	s.mu.Unlock()
	s.logf("ring epoch %d: transfers done %s, %d pending", next.Epoch(), strings.Join(moved, " "), left)
	s.publish()
	return true
}

// changeRing plans a join or a leave: it is in the draw only while no
// transfer is pending, as the metadata plane commits one plan at a time.
func (s *sim) changeRing(join bool) string {
	s.mu.Lock()
	busy := len(s.pending) > 0
	cur := s.ring
	s.mu.Unlock()
	if busy {
		return ""
	}
	members := cur.Members()
	var who string
	if join {
		var out []string
		for _, id := range s.ids {
			if !slices.Contains(members, id) {
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			return ""
		}
		who = out[s.rng.IntN(len(out))]
		members = append(members, who)
	} else {
		if len(members) <= nVal {
			return ""
		}
		who = members[s.rng.IntN(len(members))]
		members = slices.DeleteFunc(members, func(m string) bool { return m == who })
	}
	next, err := ring.Claim(ring.Config{Size: ringSize}, cur, members, nVal)
	if err != nil {
		s.hist.violate("plan ring with %v: %v", members, err)
		return ""
	}
	moves := ring.Moves(cur, next)
	if len(moves) == 0 {
		return ""
	}
	pending := make([]node.Transfer, len(moves))
	for i, m := range moves {
		pending[i] = node.Transfer{Partition: m.Partition, From: m.From, To: m.To}
	}
	committed, err := ring.New(ring.Config{Size: ringSize}, cur.Owners(), cur.Epoch()+1)
	if err != nil {
		s.hist.violate("commit ring plan: %v", err)
		return ""
	}
	s.mu.Lock()
	s.ring, s.pending = committed, pending
	s.mu.Unlock()
	s.left[who] = !join
	s.publish()
	return fmt.Sprintf("%s (epoch %d, %d partitions move)", who, committed.Epoch(), len(pending))
}

// publish gives the committed topology to every node that is up, can
// reach a majority of the cluster and routes by an older one. It reports
// whether it told any.
func (s *sim) publish() (told bool) {
	t := s.topology()
	for _, id := range s.upNodes() {
		sn := s.nodes[id]
		if cur := sn.n.Topology(); cur.Ring != nil && cur.Ring.Epoch() >= t.Ring.Epoch() {
			continue
		}
		if !s.reachesMajority(id) {
			continue
		}
		if err := sn.n.SetTopology(t); err != nil {
			s.hist.violate("topology for %s: %v", id, err)
			continue
		}
		told = true
		s.logf("ring %s routes by epoch %d", id, t.Ring.Epoch())
	}
	return told
}

// reachesMajority reports whether id can exchange messages with a
// majority of the nodes, itself included, that are up.
func (s *sim) reachesMajority(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	reach := 0
	for _, other := range s.ids {
		if other == id || (s.up[other] && !s.cut[[2]string{id, other}] && !s.cut[[2]string{other, id}]) {
			reach++
		}
	}
	return reach*2 > len(s.ids)
}

// retire decommissions a node as an operator does once it has left: one
// that a leave (not a join) last took out of the ring, is up, routes by
// the committed ring, has no move pending and lists no transfer of its
// own (cairnctl transfers) is stopped for good and its disk thrown away.
// It owns nothing, so it must then hold no data: what it held would be
// copies the list left out. It leaves the cluster's ids, as a member
// taken out of the metadata plane does, so that majorities count without
// it; at least nVal nodes stay.
func (s *sim) retire() string {
	s.mu.Lock()
	cur, busy := s.ring, len(s.pending) > 0
	s.mu.Unlock()
	if busy || len(s.ids) <= nVal {
		return ""
	}
	var out []string
	for _, id := range s.upNodes() {
		if !s.left[id] || slices.Contains(cur.Members(), id) {
			continue
		}
		n := s.nodes[id].n
		if t := n.Topology(); t.Ring == nil || t.Ring.Epoch() != cur.Epoch() || len(n.LocalTransfers()) > 0 {
			continue
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return ""
	}
	id := out[s.rng.IntN(len(out))]
	// It owns nothing, so a list that is right names every partition it
	// holds data of: with none listed it must hold none.
	for q := range ringSize {
		data, err := s.nodes[id].mem.Dump(store.Partition(q))
		if err != nil {
			s.hist.violate("dump %s/%d: %v", id, q, err)
		} else if len(data) > 0 {
			s.hist.violate("%s listed no transfer, owns nothing and holds %d key(s) of partition %d: retiring it loses them", id, len(data), q)
		}
	}
	s.crash(s.nodes[id]) // never booted again: nothing reads its engine any more
	s.ids = slices.DeleteFunc(slices.Clone(s.ids), func(x string) bool { return x == id })
	s.retired = append(s.retired, id)
	return fmt.Sprintf("%s (left the ring at epoch %d, listed no transfer)", id, cur.Epoch())
}
