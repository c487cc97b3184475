// Package node is one cairn node: it coordinates gets, puts and deletes with
// Riak's quorums (n_val, r, w, pr, pw, dw, rw) over the vnodes of a key's
// preference list, stores each vnode's objects in a storage engine and repairs
// stale replicas on read. Bucket types and properties come from a Metadata
// (the Raft metadata plane, or a LocalMetadata for a node that runs alone),
// and the keys of consistent bucket types live there too: the node sends
// their gets, puts, deletes and listings to it instead of to the vnodes.
//
// A node runs alone (New: it owns every partition) or as a member of a
// cluster (NewClustered): it then routes by the committed ring it is given
// with SetTopology, reaches other nodes' vnodes through an rpc.Transport,
// serves theirs with HandleRPC, and learns who is up from a Liveness
// (gossip).
//
// Invariants:
//   - A put is coordinated by a vnode of the key's preference list; a node
//     that holds none forwards the write to one that does, once, and a
//     forwarded write is never forwarded again. The coordinator serialises
//     writes to one key (a striped lock), so two writes with the same
//     context through it become two siblings, never one.
//   - Every other replica merges what it receives with what it holds
//     (object.Sync); no replica ever overwrites a version it has not seen.
//   - Quorums are counted in vnode replies, whether the vnode is on this node
//     or on another: the coordinator talks to replicas only through the
//     Replicas seam. pr and pw count primaries only; dw counts replies sent
//     after the replica's write was durable.
//   - Sloppy quorum: a primary that gossip reports down, or that fails or
//     times out (Config.ReplicaTimeout) during a write, is replaced by the
//     next up node clockwise; the stand-in stores the object under the
//     primary's partition, where hinted handoff (HandOffHints) finds it and
//     delivers it once the owner is back, deleting its copy only after the
//     owner holds it durably.
//   - A tombstone is deleted only once every primary holds that very
//     tombstone and Config.ReapGrace has passed; a key being moved between
//     owners, or with a primary down, keeps its tombstone.
//   - A key of a consistent bucket type never touches a vnode, and a key
//     of any other type never touches the metadata plane.
//   - A stored value that fails its checksum is never served: the replica's
//     reply counts as an error, the corruption is logged with the key, and
//     read repair overwrites it with the merged value of the others.
//   - Peers' bytes are untrusted: every RPC body is checked before it is
//     decoded, and a malformed one is an ErrBadRequest, never a panic.
//
// Usage:
//
//	eng, _ := store.OpenBadger(storeCfg)
//	n, _ := node.New(cfg, eng, nil) // nil: alone, with a LocalMetadata
//	defer n.Close()
//	obj, err := n.Get(ctx, node.Location{Type: "default", Bucket: "b", Key: "k"}, node.DefaultGetOptions())
//
// In a cluster:
//
//	n, _ := node.NewClustered(cfg, eng, metaPlane, rpcClient, gossip)
//	_ = n.SetTopology(node.Topology{Ring: r, Addrs: rpcAddrs})
//	srv := rpc.NewServer(rpcCfg, n.HandleRPC)
package node
