// Package ring maps keys to partitions and partitions to nodes: cairn's
// consistent-hash ring, in the manner of Riak's riak_core ring. It is pure
// code: no I/O, no clocks, no goroutines, no package state.
//
// # Model
//
// The ring has Q partitions (Config.Size, a power of two fixed when the
// cluster is created). A key's storage bytes hash to 64 bits (Config.Hash,
// XXHash by default) and the top log2(Q) bits name its partition, so each
// partition is one contiguous 1/Q of the hash space and partition p+1
// follows p clockwise. Every partition has one owner, a node id; the owner
// table carries an epoch that grows by one with every change.
//
// A key's preference list is its partition and the next n-1 clockwise
// (Preflist), each a VNode. PreflistWithFallbacks replaces the replicas of
// down owners with stand-ins further round the ring (sloppy quorum).
//
// Claim computes a new owner table from the previous one and the member
// list: balanced, with any TargetN consecutive partitions on distinct
// nodes whenever Feasible says that is possible, and moving few partitions
// (see Claim for the exact guarantees and the measured cost).
//
// # Invariants
//
//   - A *Ring is immutable; its methods are safe for concurrent use and
//     every slice they return is a copy the caller owns.
//   - PartitionOf depends only on the key bytes, Q and the Hash: all nodes
//     agree on it, whatever their ring's epoch.
//   - Claim is deterministic: the same previous ring, member set (in any
//     order) and target n give the same ring on every node and Go release
//     (no map order, no clock, no shared randomness).
//   - A ring returned by Claim is balanced (each member owns floor(Q/M) or
//     ceil(Q/M) partitions) and, whenever Feasible(Q, M, targetN), puts
//     any targetN consecutive partitions on distinct nodes.
//
// # Usage
//
//	cfg := ring.DefaultConfig()
//	r, err := ring.Claim(cfg, nil, []string{"a", "b", "c", "d"}, ring.DefaultTargetN)
//	…
//	replicas := r.Preflist(storageKey, 3) // primaries, clockwise
//	up := func(node string) bool { return alive[node] }
//	apl := r.PreflistWithFallbacks(r.PartitionOf(storageKey), 3, up)
//
//	next, err := ring.Claim(cfg, r, []string{"a", "b", "c", "d", "e"}, ring.DefaultTargetN)
//	for _, m := range ring.Moves(r, next) {
//		// hand partition m.Partition from m.From to m.To
//	}
package ring
