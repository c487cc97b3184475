package group

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

var _ node.Metadata = (*Group)(nil)

// TypeProps implements node.Metadata from this node's copy.
func (g *Group) TypeProps(typ string) (node.Props, error) {
	p, err := g.fsm.TypeProps(typ)
	return p, g.notYet(typ, err)
}

// BucketProps implements node.Metadata from this node's copy.
func (g *Group) BucketProps(typ, bucket string) (node.Props, error) {
	p, err := g.fsm.BucketProps(typ, bucket)
	return p, g.notYet(typ, err)
}

// notYet turns an unknown bucket type into node.ErrUnavailable while this
// node's copy has not caught up since it started: the type may exist in
// entries it has not replayed yet, and a 404 would tell a client that its
// key does not exist when this node merely does not know yet (a
// restarted member answered so until a leader reached it).
func (g *Group) notYet(typ string, err error) error {
	if err == nil || !errors.Is(err, node.ErrUnknownBucketType) || g.CaughtUp() {
		return err
	}
	return fmt.Errorf("%w: bucket type %q not known here yet: this node's metadata is still catching up after its start (%v)", node.ErrUnavailable, typ, err)
}

// SetTypeProps implements node.Metadata through the group.
func (g *Group) SetTypeProps(ctx context.Context, typ string, raw []byte) (node.Props, error) {
	res, err := g.apply(ctx, meta.OpUpdateType, meta.TypeCmd{Name: typ, Props: raw})
	if err != nil {
		return node.Props{}, err
	}
	if res.Type == nil {
		return g.fsm.TypeProps(typ)
	}
	return res.Type.Props, nil
}

// SetBucketProps implements node.Metadata through the group.
func (g *Group) SetBucketProps(ctx context.Context, typ, bucket string, raw []byte) (node.Props, error) {
	res, err := g.apply(ctx, meta.OpSetBucketProps, meta.BucketPropsCmd{Type: typ, Bucket: bucket, Props: raw})
	if err != nil {
		return node.Props{}, err
	}
	// The result carries the props as this command left them; reading the
	// FSM afterwards could see a later command's.
	if res.Type != nil {
		return res.Type.Props, nil
	}
	return g.fsm.BucketProps(typ, bucket)
}

// ResetBucketProps implements node.Metadata through the group.
func (g *Group) ResetBucketProps(ctx context.Context, typ, bucket string) error {
	_, err := g.apply(ctx, meta.OpResetBucketProps, meta.BucketPropsCmd{Type: typ, Bucket: bucket})
	return err
}

// StrongGet implements node.Metadata: the leader confirms it still leads
// (Raft's read index) and answers from its copy, which holds every write
// acknowledged before the read. A follower forwards the read rather than
// waiting to apply up to the read index itself: it learns that entries
// are committed only with the leader's next append, up to a commit
// timeout later, and a read right after a write through it waited that
// long (BenchmarkStrongReadYourWriteFollower).
func (g *Group) StrongGet(ctx context.Context, loc node.Location) (*object.Object, error) {
	key := loc.Bytes()
	if g.cfg.UnsafeLocalReads {
		return g.fsm.StrongGet(key)
	}
	ctx, cancel := g.bound(ctx)
	defer cancel()
	res, err := g.onLeader(ctx, methodStrongRead, key, func(ctx context.Context) *meta.Result {
		return g.strongReadLocal(ctx, key)
	})
	if err != nil {
		return nil, err
	}
	var o *object.Object
	if len(res.Object) > 0 {
		if o, err = object.Decode(res.Object); err != nil {
			return nil, fmt.Errorf("group: strong read's object: %w", err)
		}
	}
	return o, res.Err()
}

// strongReadLocal is the leader's half of StrongGet: the read index, then
// the key as this node's copy holds it (a tombstone comes with
// CodeNotFound).
func (g *Group) strongReadLocal(ctx context.Context, key []byte) *meta.Result {
	ri := g.readIndexLocal(ctx)
	if ri.Code != meta.CodeOK {
		return ri
	}
	o, err := g.fsm.StrongGet(key)
	res := &meta.Result{Index: ri.Index}
	if o != nil {
		enc, eerr := object.Encode(o)
		if eerr != nil {
			return meta.Fail(fmt.Errorf("group: strong read: encode: %w", eerr))
		}
		res.Object = enc
	}
	if err != nil {
		res.Code, res.Msg = meta.CodeOf(err), err.Error()
	}
	return res
}

// StrongPut implements node.Metadata: one Raft entry, checked by the FSM
// against the current version.
func (g *Group) StrongPut(ctx context.Context, loc node.Location, c object.Content, opts node.PutOptions) (*object.Object, error) {
	key := loc.Bytes()
	cmd := meta.StrongPutCmd{Key: key, IfNoneMatch: opts.IfNoneMatch, Content: c}
	if !opts.Context.IsZero() {
		cmd.Context = opts.Context.Encode(key)
	}
	if cmd.Content.LastModified.IsZero() {
		cmd.Content.LastModified = g.cfg.Clock.Now()
	}
	// The result carries the object written; a read that follows, here
	// or anywhere, goes through a barrier, so this node need not have
	// applied the write before it answers.
	res, err := g.commit(ctx, meta.OpStrongPut, cmd)
	if err != nil {
		return nil, err
	}
	return decodeResult(res)
}

// StrongDelete implements node.Metadata.
func (g *Group) StrongDelete(ctx context.Context, loc node.Location, opts node.DeleteOptions) error {
	key := loc.Bytes()
	cmd := meta.StrongDeleteCmd{Key: key, LastModified: g.cfg.Clock.Now()}
	if !opts.Context.IsZero() {
		cmd.Context = opts.Context.Encode(key)
	}
	_, err := g.commit(ctx, meta.OpStrongDelete, cmd)
	return err
}

// StrongList implements node.Metadata: a barrier, then this node's copy.
func (g *Group) StrongList(ctx context.Context, typ, bucket string, fn func(key string) error) error {
	if err := g.Barrier(ctx); err != nil {
		return err
	}
	return g.fsm.StrongList(typ, bucket, fn)
}

func decodeResult(res *meta.Result) (*object.Object, error) {
	if len(res.Object) == 0 {
		return nil, errors.New("group: strong write answered without the object")
	}
	o, err := object.Decode(res.Object)
	if err != nil {
		return nil, fmt.Errorf("group: strong write's object: %w", err)
	}
	return o, nil
}
