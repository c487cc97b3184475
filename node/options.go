package node

import "github.com/cairnkv/cairn/node/object"

// GetOptions tune one read. Zero values mean "the bucket's default".
type GetOptions struct {
	R, PR Quorum
	// BasicQuorum and NotFoundOK override the bucket's values when non-nil.
	BasicQuorum *bool
	NotFoundOK  *bool
}

// PutOptions tune one write.
type PutOptions struct {
	W, DW, PW Quorum
	// Context is the causal context the client read (X-Riak-Vclock); empty
	// for a blind write, which adds a sibling to whatever exists.
	Context object.Context
	// ReturnBody asks for the merged object after the write.
	ReturnBody bool
	// IfNoneMatch asks that the write create the key only if absent. The
	// strongly consistent path checks it atomically; the AP path cannot,
	// and leaves If-None-Match to the HTTP layer's read-then-write.
	IfNoneMatch bool
}

// DeleteOptions tune one delete. A delete is a put of a tombstone, so it
// takes the write quorums plus rw (Riak's quorum for deletes, the default
// for w when w is not given).
type DeleteOptions struct {
	RW, R, W, PR, PW, DW Quorum
	Context              object.Context
}

// DefaultGetOptions leaves every choice to the bucket.
func DefaultGetOptions() GetOptions { return GetOptions{R: QuorumDefault, PR: QuorumDefault} }

// DefaultPutOptions leaves every choice to the bucket.
func DefaultPutOptions() PutOptions {
	return PutOptions{W: QuorumDefault, DW: QuorumDefault, PW: QuorumDefault}
}

// DefaultDeleteOptions leaves every choice to the bucket.
func DefaultDeleteOptions() DeleteOptions {
	return DeleteOptions{RW: QuorumDefault, R: QuorumDefault, W: QuorumDefault, PR: QuorumDefault, PW: QuorumDefault, DW: QuorumDefault}
}
