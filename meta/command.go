package meta

import (
	"time"

	"github.com/cairnkv/cairn/node/object"
)

// Op names a command.
type Op uint8

// Commands. Values are part of the Raft log's format: never renumber.
const (
	OpInit             Op = 1  // InitCmd: create the ring (no-op if it exists)
	OpRegister         Op = 2  // RegisterCmd: add a member as joining, or update its addresses
	OpSetMemberState   Op = 3  // SetMemberStateCmd
	OpStage            Op = 4  // Change: stage a ring change
	OpClear            Op = 5  // no body: drop staged changes
	OpCommit           Op = 6  // CommitCmd: apply the plan of the staged changes
	OpCreateType       Op = 7  // TypeCmd: create an inactive bucket type
	OpActivateType     Op = 8  // TypeCmd (Props ignored)
	OpUpdateType       Op = 9  // TypeCmd: merge Props into the type's
	OpSetBucketProps   Op = 10 // BucketPropsCmd
	OpResetBucketProps Op = 11 // BucketPropsCmd (Props ignored)
	OpStrongPut        Op = 12 // StrongPutCmd
	OpStrongDelete     Op = 13 // StrongDeleteCmd
	OpRemoveMember     Op = 14 // RemoveMemberCmd: forget a member that owns nothing
	OpCompleteTransfer Op = 15 // TransferCmd: a pending transfer's data has arrived; its receiver owns the partition
)

// Command is one Raft log entry: an op and its msgpack-encoded body.
type Command struct {
	Op   Op     `msgpack:"op"`
	Body []byte `msgpack:"b"`
}

// InitCmd creates the ring with First as its only member and owner.
type InitCmd struct {
	RingSize int    `msgpack:"size"`
	TargetN  int    `msgpack:"tn"`
	First    Member `msgpack:"first"`
}

// RegisterCmd adds a member (state joining) or updates an existing
// member's addresses (its state is kept).
type RegisterCmd struct {
	Member Member `msgpack:"m"`
}

// SetMemberStateCmd sets a member's state (an operator marking a node down
// or up again).
type SetMemberStateCmd struct {
	ID    string      `msgpack:"id"`
	State MemberState `msgpack:"st"`
}

// RemoveMemberCmd forgets a member. It fails unless the member owns no
// partition and is the target of no pending transfer.
type RemoveMemberCmd struct {
	ID string `msgpack:"id"`
}

// TransferCmd completes the pending transfer of Partition from From to
// To: the sender proposes it once the receiver holds everything.
type TransferCmd struct {
	Partition int    `msgpack:"p"`
	From      string `msgpack:"f"`
	To        string `msgpack:"t"`
}

// CommitCmd applies the plan of the staged changes if the ring is still
// at Epoch, so that two commits planned against one epoch cannot both
// apply.
type CommitCmd struct {
	Epoch uint64 `msgpack:"ep"`
}

// TypeCmd creates, activates or updates a bucket type. Props is a JSON
// object of Riak property names, merged over the defaults (create) or the
// type's current properties (update).
type TypeCmd struct {
	Name  string `msgpack:"name"`
	Props []byte `msgpack:"props,omitempty"`
}

// BucketPropsCmd sets (merges Props, a JSON object) or resets a bucket's
// properties.
type BucketPropsCmd struct {
	Type   string `msgpack:"type"`
	Bucket string `msgpack:"bucket"`
	Props  []byte `msgpack:"props,omitempty"`
}

// StrongPutCmd writes a strongly consistent key. Key is
// node.Location.Bytes(). Context is the X-Riak-Vclock the client sent
// (bound to Key), empty for none.
//
//   - IfNoneMatch: succeed only if the key is absent (or a tombstone).
//   - Otherwise, with a Context: succeed only if it equals the current
//     version's context.
//   - Otherwise (no context): succeed only if the key is absent, as Riak's
//     strongly consistent buckets treat a write without a vclock.
//
// Content.LastModified is set by the proposer, so that every replica
// applies the same value.
type StrongPutCmd struct {
	Key         []byte         `msgpack:"key"`
	Context     string         `msgpack:"ctx,omitempty"`
	IfNoneMatch bool           `msgpack:"inm,omitempty"`
	Content     object.Content `msgpack:"c"`
}

// StrongDeleteCmd deletes a strongly consistent key by writing a
// tombstone. Context must equal the current version's context; a key
// that is absent or already deleted gives node.ErrNotFound.
type StrongDeleteCmd struct {
	Key          []byte    `msgpack:"key"`
	Context      string    `msgpack:"ctx,omitempty"`
	LastModified time.Time `msgpack:"lm"`
}

// StrongActor is the DVV actor of every strongly consistent write: the
// Raft log orders them, so one actor suffices and the clock stays one
// entry long.
const StrongActor object.Actor = "raft"

// Result is what applying a command returns (raft's ApplyFuture.Response)
// and what crosses the wire when a follower forwards a command. Err is
// nil on success; Code and Msg carry it across the wire.
type Result struct {
	Code ErrCode `msgpack:"code,omitempty"`
	Msg  string  `msgpack:"msg,omitempty"`
	// Object is the encoded object after a strong put (or the tombstone
	// after a strong delete).
	Object []byte `msgpack:"obj,omitempty"`
	// Epoch is the ring epoch after OpCommit, OpInit or OpCompleteTransfer.
	Epoch uint64 `msgpack:"ep,omitempty"`
	// Type is the bucket type after a type command.
	Type *BucketType `msgpack:"type,omitempty"`
	// Index is the Raft index the command was applied at.
	Index uint64 `msgpack:"idx,omitempty"`
}
