// Package gossip tells a cairn node who else is in the cluster: which
// members are alive, their HTTP, RPC and Raft addresses and the ring
// epoch each has applied, with join, failure, leave and update events for
// a Delegate. It is hashicorp/memberlist (SWIM: random probes, indirect
// probes, suspicion, piggybacked gossip, periodic push/pull) behind a
// small API. Gossip is advisory: it decides nothing about the ring or
// data; the Raft group does. A node behind on the ring learns it from a
// peer's higher RingEpoch and catches up from the Raft log.
//
// Invariants:
//
//   - A member is named by its cairn node id (memberlist's node name); the
//     id must be unique and survive restarts. A node that comes back
//     under the same id is the same member: Alive again once it has
//     refuted its death (at its old address at once, at a new one after
//     Config.DeadNodeReclaimTime).
//   - Each member's state here walks Alive → Suspect → (Alive | Dead),
//     Alive → Dead, Alive → Left, and (Dead | Left) → Alive. Every change,
//     and every change of an alive member's Meta (Kind Alive, Updated),
//     is one Event. Events reach the Delegate one at a time, in the order
//     this node saw the changes, from a goroutine of the Gossip's own:
//     memberlist never waits on the Delegate.
//   - Suspect is this node's own view. memberlist exposes no suspicion
//     callback (hashicorp/memberlist#266), so a member turns Suspect here
//     when this node's own probe of it fails, and Alive again when this
//     node's next probe succeeds or the member announces new metadata. A
//     member another node suspects and gets declared dead before this node
//     probes it goes straight from Alive to Dead.
//   - Left versus Dead: memberlist reports both through one callback. A
//     node leaving through Leave first gossips a leaving flag in its
//     metadata; the others record it as Left if they saw the flag, Dead
//     otherwise.
//   - memberlist never contacts a member again once it holds it dead, so
//     after a partition longer than the suspicion timeout the two sides
//     would stay apart. Every Config.ReconnectInterval this node joins the
//     members it holds dead (not those that left); once the partition
//     heals, both sides refute and turn Alive again.
//   - Up is true for alive and suspect members and for nodes gossip has
//     never heard of; false only for dead and left ones.
//   - Members lists every member seen since New, dead and left included.
//   - Meta, encoded (msgpack), fits memberlist.MetaMaxSize (512 bytes);
//     New and SetMeta refuse one that does not.
//   - With Config.SecretKey set, all gossip is encrypted and authenticated
//     (AES-GCM); a node with another key, or none, cannot join.
//     Config.AcceptKeys are also accepted from others, for a rolling key
//     rotation (ParseKeyring).
//   - memberlist logs through the Config.Logger (slog), at the level of
//     its line's tag.
//
// Usage:
//
//	cfg := gossip.DefaultConfig()
//	cfg.NodeID = id
//	cfg.BindAddr = "0.0.0.0:7946"
//	cfg.AdvertiseAddr = "10.0.0.5:7946"
//	cfg.SecretKey, cfg.AcceptKeys, err = gossip.ParseKeyring(os.Getenv("CAIRN_GOSSIP_KEY"))
//	cfg.Meta = gossip.Meta{HTTPAddr: httpAddr, RPCAddr: rpcAddr, RaftAddr: raftAddr, RingEpoch: epoch}
//	cfg.Logger = logger
//	g, err := gossip.New(cfg, delegate) // delegate.Notify(gossip.Event)
//	if _, err := g.Join(seeds); err != nil { … } // retry; the node is alone until it succeeds
//	…
//	g.SetRingEpoch(newEpoch)  // after applying a ring from the Raft log
//	if !g.Up(peer) { … }      // pick a fallback
//	…
//	g.Leave(5 * time.Second)  // on a graceful stop
//	g.Close()
package gossip
