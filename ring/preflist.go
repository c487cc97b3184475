package ring

import "slices"

// Preflist returns the primary replicas of key: its partition and the next
// n-1 partitions clockwise, each with its owner. n is capped at Size();
// n <= 0 yields nil. With fewer than n members (or a claim that could not
// keep n apart, see Claim) a node may appear more than once.
func (r *Ring) Preflist(key []byte, n int) []VNode {
	return r.PreflistFor(r.PartitionOf(key), n)
}

// PreflistFor is Preflist for the key's partition. It panics if partition
// is not in [0, Size()).
func (r *Ring) PreflistFor(partition, n int) []VNode {
	r.checkPartition(partition)
	n = min(n, r.size)
	if n <= 0 {
		return nil
	}
	out := make([]VNode, n)
	for i := range out {
		p := (partition + i) & (r.size - 1)
		out[i] = VNode{Partition: p, Node: r.owners[p]}
	}
	return out
}

// Role says whether a preference-list entry is served by its partition's
// owner or by a stand-in.
type Role uint8

// Roles of a PrefEntry.
const (
	// Primary: the partition's owner serves the replica.
	Primary Role = iota + 1
	// Fallback: the owner is down and another node holds the replica for
	// it until it is back (sloppy quorum, hinted handoff).
	Fallback
)

// String returns "primary" or "fallback".
func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Fallback:
		return "fallback"
	}
	return "Role(?)"
}

// PrefEntry is one replica of a fallback-aware preference list.
type PrefEntry struct {
	// Partition is the replica's partition (one of the primaries) and Node
	// the node that serves it now: its owner for a Primary, a stand-in for
	// a Fallback. A fallback stores the data under Partition, as the owner
	// would, so handing it back is a partition-scoped transfer.
	VNode
	Role Role
	// Owner is Partition's owner: equal to Node for a Primary; for a
	// Fallback, the down node that the hint is for.
	Owner string
}

// PreflistWithFallbacks returns the replicas of partition's preference list
// of length n given which nodes are up (nil up means all are), in the
// order of the primaries:
//
//   - a primary whose owner is up is kept as a Primary entry;
//   - a primary whose owner is down is replaced by a Fallback: the owner of
//     the next partition after the n primaries, walking clockwise (and
//     wrapping, but never past the start) that is up and not already serving
//     an entry of this list. Successive down primaries continue the same
//     walk, as Riak's riak_core_apl does, so the same inputs always pick the
//     same fallbacks;
//   - a down primary for which the walk finds no such node is left out, so
//     the list can be shorter than n (the coordinator then cannot reach n
//     replicas, whatever it does).
//
// up is called at most once per partition of the ring per call and must not
// retain anything. n is capped at Size(); n <= 0 yields nil. It panics if
// partition is not in [0, Size()).
func (r *Ring) PreflistWithFallbacks(partition, n int, up func(node string) bool) []PrefEntry {
	prim := r.PreflistFor(partition, n)
	if len(prim) == 0 {
		return nil
	}
	if up == nil {
		up = func(string) bool { return true }
	}
	isUp := make([]bool, len(prim))
	serving := make([]string, 0, len(prim)) // nodes already in the list
	for i, v := range prim {
		isUp[i] = up(v.Node)
		if isUp[i] {
			serving = append(serving, v.Node)
		}
	}
	out := make([]PrefEntry, 0, len(prim))
	walked := len(prim) // partitions of the ring looked at so far
	for i, v := range prim {
		if isUp[i] {
			out = append(out, PrefEntry{VNode: v, Role: Primary, Owner: v.Node})
			continue
		}
		for walked < r.size {
			node := r.owners[(partition+walked)&(r.size-1)]
			walked++
			if slices.Contains(serving, node) || !up(node) {
				continue
			}
			serving = append(serving, node)
			out = append(out, PrefEntry{
				VNode: VNode{Partition: v.Partition, Node: node},
				Role:  Fallback,
				Owner: v.Node,
			})
			break
		}
	}
	return out
}
