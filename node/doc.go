// Package node is one cairn node: it coordinates gets, puts and deletes with
// Riak's quorums (n_val, r, w, pr, pw, dw, rw) over the vnodes of a key's
// preference list, stores each vnode's objects in a storage engine and repairs
// stale replicas on read. Bucket types and properties come from a Metadata
// (the Raft metadata plane, or a LocalMetadata for a node that runs alone),
// and the keys of consistent bucket types live there too: the node sends
// their gets, puts, deletes and listings to it instead of to the vnodes.
//
// Invariants:
//   - A put is coordinated by a vnode of the key's preference list. The
//     coordinator serialises writes to one key (a striped lock), so two
//     writes with the same context through it become two siblings, never one.
//   - Every other replica merges what it receives with what it holds
//     (object.Sync); no replica ever overwrites a version it has not seen.
//   - Quorums are counted in vnode replies, whether the vnode is on this node
//     or (once the cluster transport exists) on another: the coordinator
//     talks to replicas only through the Replicas seam.
//   - A key of a consistent bucket type never touches a vnode, and a key
//     of any other type never touches the metadata plane.
//   - A stored value that fails its checksum is never served: the replica's
//     reply counts as an error, the corruption is logged with the key, and
//     read repair overwrites it with the merged value of the others.
//
// Usage:
//
//	eng, _ := store.OpenBadger(storeCfg)
//	n, _ := node.New(cfg, eng, nil) // nil: alone, with a LocalMetadata
//	defer n.Close()
//	obj, err := n.Get(ctx, node.Location{Type: "default", Bucket: "b", Key: "k"}, node.DefaultGetOptions())
package node
