// Package group runs this node's member of the Raft metadata group: the
// meta FSM under hashicorp/raft, with raft-boltdb/v2 (bbolt) for the log
// and stable store and a file snapshot store under <data-dir>/raft.
//
// Every node is a member. One bootstraps the group; the others join
// through any member and are added as non-voters. The leader's
// reconciler (autopilot) promotes healthy non-voters until the group has
// Config.Voters voters, and replaces a voter that has missed heartbeats
// for longer than Config.DeadServerThreshold.
//
// Nobody needs to know who leads: a write on a follower is forwarded over
// the internal RPC to the leader, and a linearizable read on a follower
// asks the leader for a read index (Raft's read-index protocol: the
// leader confirms with a quorum that it still leads) and then reads its
// own copy once it has applied that far. Without a quorum both fail with
// an error wrapping node.ErrUnavailable within Config.ApplyTimeout.
//
// Retries happen only where nothing can have been applied (no leader, a
// leader that cannot be dialled, a callee that no longer leads). A write
// whose leader was lost after it was sent fails with "outcome unknown",
// as a Riak timeout does; strongly consistent writes are conditional, so
// the client's retry is safe.
//
// A Group implements node.Metadata (bucket types and properties,
// strongly consistent keys) and adminapi.Cluster (status, staged ring
// changes, bucket type administration).
//
//	stores, _ := group.OpenStores(filepath.Join(dataDir, "raft"), hlog)
//	g, _ := group.Open(cfg, stores, rpc.TCP{}, client)
//	defer g.Close()
//	srv := rpc.NewServer(rpcCfg, g.Handle) // with the node's own methods
package group
