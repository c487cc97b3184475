package adminapi

// Liveness says which nodes are up, as this node sees them: gossip in a
// running node (gossip.Gossip), Fake in tests. GET /admin/cluster reports
// the members it says are not up, so that a client learns who is down from
// one node's answer rather than by calling every member itself.
//
// node is a member id: the id a node gossips under, which is also its Raft
// server id. Up reports false only for a node known to be down (for gossip,
// dead or left); one it has never heard of is up.
//
// Up is called once per member while an answer is built: it must be safe
// for concurrent use and cheap, answering from what the implementation
// already knows, without I/O and without blocking. node.Liveness has the
// same contract, so a node's gossip layer serves both.
type Liveness interface {
	Up(node string) bool
}
