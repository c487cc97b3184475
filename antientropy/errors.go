package antientropy

import "errors"

// Errors of the package. They are wrapped with context; compare with
// errors.Is.
var (
	// ErrBadWindow: a window spec is not "always" or "HH:MM-HH:MM".
	ErrBadWindow = errors.New("antientropy: bad window")
	// ErrDisabled: the node does not take part in anti-entropy now
	// (disabled, or outside its window); a peer's exchange is refused.
	ErrDisabled = errors.New("antientropy: disabled")
	// ErrNotBuilt: the tree asked for is not built yet (the node is still
	// scanning its data after a start without a saved tree).
	ErrNotBuilt = errors.New("antientropy: tree not built")
	// ErrShape: two trees of an exchange have different shapes (nodes
	// configured with different segment counts); they cannot be compared.
	ErrShape = errors.New("antientropy: trees of different shapes")
	// ErrCorruptTree: a saved tree failed its checksum or is malformed.
	ErrCorruptTree = errors.New("antientropy: corrupt saved tree")
)
