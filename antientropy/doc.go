// Package antientropy finds the keys on which two replicas disagree, so
// that the node can repair them: cairn's active anti-entropy (AAE), in the
// manner of Riak's Tictac AAE. It is pure code: no I/O, no clocks (time is
// passed in), no package state; the only goroutines are the two that
// Compare joins before it returns.
//
// # Model
//
// Every vnode keeps, per tree id (the primary partition and n_val of a
// preference list), a Tree over its (key, version) pairs. A key's hash is
// KeyHash(key, version); the key lives in segment SegmentOf(key, S). A
// tree has three levels: the root, B = 2^(log2(S)/2) branches, and S
// segments, segment s under branch s/(S/B).
//
// An exchange (Compare) asks two Sides, local and remote, for their roots,
// then for the branch hashes, the segment hashes of differing branches and
// the keys of differing segments only, and returns the keys whose hashes
// differ. The node repairs each by a DVV merge pushed to the side that lacks it, and schedules exchanges
// and rebuild scans with the step-driven Scheduler.
//
// # Invariants
//
//   - Every hash in a tree is the XOR of the key hashes below it. XOR is
//     its own inverse and order-free, so a write is one Update(segment,
//     old, new) touching a segment, its branch and the root: O(1), without
//     reading other keys; and a tree updated write by write equals one
//     built from scratch from the same pairs.
//   - Hash 0 means absent: KeyHash never returns 0, and an empty segment
//     hashes to 0.
//   - SegmentOf and KeyHash depend only on their bytes: every node and
//     every release agrees on them.
//   - An exchange of equal trees costs one round trip of one hash per side;
//     otherwise at most four round trips, and the keys read grow with the
//     number of differing keys (about 2N/S entries per differing segment for
//     N keys), not with the size of the data.
//   - Trees of different shapes are never compared (ErrShape).
//
// # Usage
//
//	tree := antientropy.NewTree(cfg.Segments)
//	// on every write of key, version replacing oldVersion (nil: none):
//	seg := antientropy.SegmentOf(key, cfg.Segments)
//	var old uint64
//	if oldVersion != nil {
//		old = antientropy.KeyHash(key, oldVersion)
//	}
//	tree.Update(seg, old, antientropy.KeyHash(key, version))
//
//	// in the node's AAE loop:
//	sched := antientropy.NewScheduler(cfg, rand.New(rand.NewPCG(seed1, seed2)))
//	sched.Set(candidates, now)
//	for id, ok := sched.Next(now); ok; id, ok = sched.Next(now) {
//		go func() {
//			diffs, st, err := antientropy.Compare(ctx, antientropy.TreeSide(tree, keys), remote)
//			repaired := repair(diffs)
//			sched.Done(id, clock.Now(), antientropy.Result{Repaired: repaired, KeysCompared: st.KeysCompared, Err: err})
//		}()
//	}
//	wake, ok := sched.Wake(now) // sleep until then, or until a Done
package antientropy
