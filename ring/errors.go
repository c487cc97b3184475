package ring

import "errors"

// Errors returned by this package. Functions wrap them with %w to add the
// offending value, so compare with errors.Is.
var (
	// ErrBadSize: a ring size that is not a power of two in [MinSize, MaxSize].
	ErrBadSize = errors.New("ring: size must be a power of two between 8 and 4096")
	// ErrBadOwners: an owner table whose length is not the ring size, or that
	// leaves a partition without a node.
	ErrBadOwners = errors.New("ring: owner table must name a node for every partition")
	// ErrNoMembers: Claim was given an empty member list.
	ErrNoMembers = errors.New("ring: claim needs at least one member")
	// ErrBadMember: a member id that is empty or listed twice.
	ErrBadMember = errors.New("ring: member ids must be non-empty and unique")
	// ErrBadTargetN: a claim target n outside [1, ring size].
	ErrBadTargetN = errors.New("ring: target n must be between 1 and the ring size")
	// ErrSizeMismatch: the previous ring's size differs from the configured
	// size. Ring size is fixed when a cluster is created.
	ErrSizeMismatch = errors.New("ring: ring size differs from the configured size")
)
