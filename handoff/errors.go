package handoff

import "errors"

// Errors returned by the Scheduler and ParseID.
var (
	// ErrBadID: a transfer id that does not parse.
	ErrBadID = errors.New("handoff: malformed transfer id")
	// ErrNoTransfer: no such transfer on this node.
	ErrNoTransfer = errors.New("handoff: no such transfer")
	// ErrBadAction: an action other than pause, resume or cancel.
	ErrBadAction = errors.New("handoff: unknown action")
)
