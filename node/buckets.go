package node

import "context"

// The node keeps no properties of its own: it reads and changes them
// through its Metadata, writes bounded by the request timeout.

// TypeProps implements KV.
func (n *Node) TypeProps(_ context.Context, typ string) (Props, error) {
	return n.md.TypeProps(typ)
}

// SetTypeProps implements KV.
func (n *Node) SetTypeProps(ctx context.Context, typ string, raw []byte) (Props, error) {
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	p, err := n.md.SetTypeProps(ctx, typ, raw)
	if err == nil {
		n.log.Info("bucket type properties changed", "type", typ)
	}
	return p, err
}

// BucketProps implements KV.
func (n *Node) BucketProps(_ context.Context, typ, bucket string) (Props, error) {
	return n.md.BucketProps(typ, bucket)
}

// SetBucketProps implements KV.
func (n *Node) SetBucketProps(ctx context.Context, typ, bucket string, raw []byte) (Props, error) {
	if err := n.checkBucketLen(bucket); err != nil {
		return Props{}, err
	}
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	p, err := n.md.SetBucketProps(ctx, typ, bucket, raw)
	if err == nil {
		n.log.Info("bucket properties changed", "type", typ, "bucket", bucket)
	}
	return p, err
}

// ResetBucketProps implements KV.
func (n *Node) ResetBucketProps(ctx context.Context, typ, bucket string) error {
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	return n.md.ResetBucketProps(ctx, typ, bucket)
}
