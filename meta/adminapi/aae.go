package adminapi

import (
	"context"

	"github.com/cairnkv/cairn/antientropy"
)

// AAE is one node's active anti-entropy: its status and its controls. The
// node implements it; tests use Fake.
//
// It answers for the node it runs on only: cairnctl asks each member's
// admin API in turn to act on the whole cluster. Both methods are safe
// for concurrent use and wait no longer than ctx allows. A returned
// Status is the caller's, slices included.
type AAE interface {
	// AAEStatus returns this node's anti-entropy status.
	AAEStatus(ctx context.Context) (antientropy.Status, error)

	// ControlAAE applies c on this node (nil fields are left as they
	// are), persists it so that it outlives a restart, and returns the
	// new status. A window that is neither "always" nor "HH:MM-HH:MM"
	// is an error wrapping antientropy.ErrBadWindow, and changes nothing.
	ControlAAE(ctx context.Context, c antientropy.Control) (antientropy.Status, error)
}
