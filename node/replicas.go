package node

import (
	"context"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// Replicas carries vnode-level requests from a coordinator to the vnodes of a
// preference list. The single-node implementation calls the local vnodes;
// the cluster transport sends the same requests to other nodes, so the
// coordinator's quorum logic does not change when the transport does.
//
// Methods are safe for concurrent use and honour ctx's deadline. Objects
// passed in are not modified; objects returned are owned by the caller.
type Replicas interface {
	// GetReplica returns the vnode's object for key, or (nil, nil) when the
	// vnode holds nothing. A stored value that fails verification is an
	// error wrapping object.ErrCorrupt.
	GetReplica(ctx context.Context, vn ring.VNode, key []byte) (*object.Object, error)
	// PutReplica merges obj into the vnode's copy of key (object.Sync; a
	// corrupt stored copy is replaced) and returns the merged object, or
	// nil unless w.Merged asks for it. With w.Durable it returns only once
	// the write is durable under the node's sync policy.
	PutReplica(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, w ReplicaWrite) (*object.Object, error)
}

// ReplicaWrite says how a replica write is made and answered.
type ReplicaWrite struct {
	// Durable: answer once the write is durable, not merely applied.
	Durable bool
	// Merged: return the merged object. A remote replica then sends it
	// back; without Merged it answers with an acknowledgement alone, and
	// the coordinator saves decoding and merging what it does not use.
	Merged bool
	// Encoded, when set, is the object's encoding, which the caller
	// already has: a remote write sends it rather than encode the object
	// again.
	Encoded []byte
}
