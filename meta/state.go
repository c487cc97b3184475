package meta

import (
	"github.com/cairnkv/cairn/node"
)

// MemberState is where a member stands in the ring's life cycle, with
// Riak's names.
type MemberState string

// Member states.
const (
	// Joining: in the Raft group, not yet in the ring. A staged and
	// committed join makes it Valid.
	Joining MemberState = "joining"
	// Valid: owns (or may own) partitions.
	Valid MemberState = "valid"
	// Leaving: a committed leave; it still serves the partitions it is
	// handing off.
	Leaving MemberState = "leaving"
	// Exiting: it owns nothing any more and may shut down.
	Exiting MemberState = "exiting"
	// Down: marked down by an operator; claim skips it for new ownership.
	Down MemberState = "down"
)

// Member is one node of the cluster and the addresses it serves on.
type Member struct {
	ID       string      `msgpack:"id" json:"id"`
	State    MemberState `msgpack:"st" json:"state"`
	HTTPAddr string      `msgpack:"http,omitempty" json:"http_addr,omitempty"`
	RPCAddr  string      `msgpack:"rpc,omitempty" json:"rpc_addr,omitempty"`
	RaftAddr string      `msgpack:"raft,omitempty" json:"raft_addr,omitempty"`
	// GossipAddr is where the node's gossip (memberlist) listens: a node
	// that joins the Raft group learns the others' from here.
	GossipAddr string `msgpack:"gsp,omitempty" json:"gossip_addr,omitempty"`
}

// RingState is the committed ring: who serves each partition now, and the
// moves a committed plan asked for that ownership handoff has not finished.
type RingState struct {
	Size    int    `msgpack:"size" json:"size"`
	TargetN int    `msgpack:"tn" json:"target_n_val"`
	Epoch   uint64 `msgpack:"ep" json:"epoch"`
	// Owners[p] serves partition p now.
	Owners []string `msgpack:"own" json:"owners"`
	// Pending are committed moves, in partition order: Owners[p] == From
	// keeps serving p until the transfer to To completes.
	Pending []Transfer `msgpack:"pend,omitempty" json:"pending,omitempty"`
}

// Transfer is one partition moving between owners.
type Transfer struct {
	Partition int    `msgpack:"p" json:"partition"`
	From      string `msgpack:"f" json:"from"`
	To        string `msgpack:"t" json:"to"`
}

// ChangeKind is a staged ring change, as Riak's cluster commands.
type ChangeKind string

// Staged change kinds.
const (
	ChangeJoin         ChangeKind = "join"          // Node (joining) enters the ring
	ChangeLeave        ChangeKind = "leave"         // Node hands its partitions off and leaves
	ChangeForceRemove  ChangeKind = "force-remove"  // Node leaves now; its partitions are reassigned without handoff
	ChangeReplace      ChangeKind = "replace"       // Target (joining) takes Node's partitions by handoff
	ChangeForceReplace ChangeKind = "force-replace" // Target takes Node's partitions now, without handoff
)

// Change is one staged ring change.
type Change struct {
	Kind ChangeKind `msgpack:"k" json:"kind"`
	Node string     `msgpack:"n" json:"node"`
	// Target is the replacement for replace and force-replace.
	Target string `msgpack:"t,omitempty" json:"target,omitempty"`
}

// BucketType is a named set of bucket properties. A type is usable once
// active; consistent is fixed at creation, and n_val is fixed once a
// consistent type is active.
type BucketType struct {
	Name   string     `msgpack:"name" json:"name"`
	Props  node.Props `msgpack:"props" json:"props"`
	Active bool       `msgpack:"act" json:"active"`
}

// State is everything the FSM holds. The zero State (after NewState) has
// no ring and only the default bucket type; OpInit creates the ring.
type State struct {
	Members map[string]*Member `msgpack:"members"`
	// Ring is nil until OpInit.
	Ring   *RingState             `msgpack:"ring"`
	Staged []Change               `msgpack:"staged"`
	Types  map[string]*BucketType `msgpack:"types"`
	// Buckets are per-bucket property overrides, keyed by
	// string(node.BucketPrefix(type, bucket)).
	Buckets map[string]node.Props `msgpack:"buckets"`
	// Strong holds the strongly consistent keys: object.Encode'd objects
	// keyed by string(node.Location.Bytes()). Deleted keys keep a tombstone
	// so that a context from before the delete never matches a re-created
	// key.
	Strong map[string][]byte `msgpack:"strong"`
	// Index is the Raft index of the last applied entry.
	Index uint64 `msgpack:"idx"`
}
