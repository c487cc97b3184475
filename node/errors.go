package node

import "errors"

// Errors returned by the coordinator. The HTTP API maps each to a status.
var (
	// ErrNotFound: no replica holds a live value for the key. A tombstone
	// may still be returned alongside it so its context can be used.
	ErrNotFound = errors.New("node: not found")
	// ErrQuorumNotMet: fewer replicas answered than the request demanded.
	ErrQuorumNotMet = errors.New("node: quorum not met")
	// ErrQuorumTooLarge: a requested r/w/pr/pw/dw/rw exceeds n_val.
	ErrQuorumTooLarge = errors.New("node: quorum exceeds n_val")
	// ErrBadProps: bucket properties that fail validation.
	ErrBadProps = errors.New("node: invalid bucket properties")
	// ErrUnknownBucketType: the bucket type does not exist.
	ErrUnknownBucketType = errors.New("node: unknown bucket type")
	// ErrTooLarge: the object exceeds the configured maximum size.
	ErrTooLarge = errors.New("node: object too large")
	// ErrTooManySiblings: the write would give the key more siblings than
	// Config.MaxSiblings allows (HTTP 409). A write carrying the causal
	// context of a read, which replaces siblings rather than adds one,
	// is never refused: that is how the key is repaired.
	ErrTooManySiblings = errors.New("node: too many siblings")
	// ErrBadRequest: a malformed location or option.
	ErrBadRequest = errors.New("node: bad request")
	// ErrConflict: a strongly consistent write whose causal context is not
	// the current version's, or a create of a key that exists (HTTP 412).
	ErrConflict = errors.New("node: conflict")
	// ErrUnavailable: the metadata plane has no leader or no quorum within
	// the request's deadline (HTTP 503).
	ErrUnavailable = errors.New("node: unavailable")
	// ErrClosed: the node is shutting down.
	ErrClosed = errors.New("node: closed")
)
