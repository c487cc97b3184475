package adminapi

import (
	"context"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/node"
)

// Transfers is a cluster's view of partition transfers (hinted and
// ownership handoff), as the nodes that send them report them. The node
// implements it by asking every member; tests use Fake.
//
// Both methods are safe for concurrent use and wait no longer than ctx
// allows: ListTransfers counts a member that has not answered by then as
// unreachable, ControlTransfer returns an error wrapping ctx.Err().
// Returned slices are the caller's.
type Transfers interface {
	// ListTransfers returns every transfer the members report, sorted by
	// ID string (handoff.ID.String), the members that did not answer
	// (sorted: the list then lacks the transfers they send), those that
	// answered from an older ring than another's or the newest committed
	// one (sorted), and why that newest ring could not be confirmed, if it
	// could not (node.TransferReport.RingUnconfirmed). A member that
	// does not answer is not an error; err is for when no list can be made
	// at all (node.ErrUnavailable, ctx's error).
	ListTransfers(ctx context.Context) (node.TransferReport, error)

	// ControlTransfer applies action to one transfer on its sending node,
	// id.From. Errors wrap handoff.ErrNoTransfer when that node has no
	// such transfer (or is not a member), handoff.ErrBadAction for an
	// action other than pause, resume or cancel, and node.ErrUnavailable
	// when id.From cannot be reached. Repeating an action succeeds and
	// changes nothing, and so does resuming a transfer that is waiting or
	// running; resuming a retrying one starts it without waiting out its
	// backoff.
	ControlTransfer(ctx context.Context, id handoff.ID, action handoff.Action) error
}
