package node

import (
	"context"

	"github.com/cairnkv/cairn/node/object"
)

// The keys of a consistent bucket type live in the metadata plane, which
// orders every write to them: the node only forwards. Quorum options are
// ignored, as Riak's strongly consistent buckets ignore them; the request
// timeout still bounds each call.

// strongGet reads a key of a consistent type.
func (n *Node) strongGet(ctx context.Context, loc Location) (*object.Object, error) {
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	return n.md.StrongGet(ctx, loc)
}

// strongPut writes a key of a consistent type. c's size has been checked.
func (n *Node) strongPut(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error) {
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	c.Deleted = false
	if c.LastModified.IsZero() {
		c.LastModified = n.cfg.Clock.Now()
	}
	return n.md.StrongPut(ctx, loc, c, opts)
}

// strongDelete deletes a key of a consistent type: opts.Context must be
// the current version's (there is no read-before-delete to fill it in).
func (n *Node) strongDelete(ctx context.Context, loc Location, opts DeleteOptions) error {
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	return n.md.StrongDelete(ctx, loc, opts)
}
