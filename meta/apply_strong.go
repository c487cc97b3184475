package meta

import (
	"fmt"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// The strongly consistent keyspace is a compare-and-set register per key:
// a write names the version it replaces by its causal context, and
// applies only if that version is still the current one. The Raft log
// orders the writes, so one actor (StrongActor) versions them all.
//
// Deleting writes a tombstone, and tombstones are never reaped. A
// re-created key then continues the tombstone's clock: were the tombstone
// dropped, the re-created key would start its clock afresh, and a context
// read before the delete (raft:1) would equal the new version's and
// silently replace a value its writer never saw.

// conflictError is an ErrConflict with a message of its own: the reason a
// client's 412 carries.
type conflictError struct{ why string }

func (e *conflictError) Error() string { return "meta: conflict: " + e.why }
func (e *conflictError) Unwrap() error { return ErrConflict }

func conflict(why string) error { return &conflictError{why: why} }

func applyStrongPut(s *State, cmd *StrongPutCmd, res *Result) error {
	if cmd.Content.Deleted {
		return fmt.Errorf("%w: a strong put cannot carry a deleted value; delete the key instead", ErrBadCommand)
	}
	cur, ctx, err := strongTarget(s, cmd.Key, cmd.Context)
	if err != nil {
		return err
	}
	absent := cur == nil || cur.IsTombstone()
	switch {
	case cmd.IfNoneMatch:
		if !absent {
			return conflict("the key exists and the write asked for none (If-None-Match)")
		}
		// Supersede the tombstone, if any, whatever context came along.
		ctx = cur.Context()
	case ctx.IsZero():
		if !absent {
			return conflict("the key exists; send the causal context of the version you replace")
		}
		ctx = cur.Context()
	case cur == nil:
		return conflict("the key does not exist; create it without a causal context")
	case !ctx.Equal(cur.Context()):
		return conflict("the key was changed since you read it; read it again and resend with its causal context")
	}
	return storeStrong(s, cmd.Key, cur.Update(ctx, cmd.Content, StrongActor), res)
}

func applyStrongDelete(s *State, cmd *StrongDeleteCmd, res *Result) error {
	cur, ctx, err := strongTarget(s, cmd.Key, cmd.Context)
	if err != nil {
		return err
	}
	switch {
	case cur == nil || cur.IsTombstone():
		return fmt.Errorf("meta: strong delete: %w", node.ErrNotFound)
	case ctx.IsZero():
		return conflict("the key exists; send the causal context of the version you delete")
	case !ctx.Equal(cur.Context()):
		return conflict("the key was changed since you read it; read it again and resend with its causal context")
	}
	tomb := object.Content{Deleted: true, LastModified: cmd.LastModified}
	return storeStrong(s, cmd.Key, cur.Update(ctx, tomb, StrongActor), res)
}

// strongTarget checks a strong write's key and context and returns the
// key's current object (nil when absent) and the decoded context.
func strongTarget(s *State, key []byte, rawCtx string) (*object.Object, object.Context, error) {
	loc, err := node.ParseLocation(key)
	if err != nil {
		return nil, object.Context{}, fmt.Errorf("%w: key: %w", ErrBadCommand, err)
	}
	if err := loc.Validate(); err != nil {
		return nil, object.Context{}, fmt.Errorf("meta: %w", err)
	}
	if err := checkStrongType(s, loc.Type); err != nil {
		return nil, object.Context{}, err
	}
	ctx, err := object.DecodeContext(rawCtx, key)
	if err != nil {
		return nil, object.Context{}, fmt.Errorf("meta: causal context: %w", err)
	}
	cur, err := strongObject(s, key)
	if err != nil {
		return nil, object.Context{}, err
	}
	return cur, ctx, nil
}

// checkStrongType requires typ to exist, be active and be consistent.
func checkStrongType(s *State, typ string) error {
	p, err := activeTypeProps(s, typ)
	if err != nil {
		return err
	}
	if !p.Consistent {
		return fmt.Errorf("meta: %w: bucket type %q is not consistent", node.ErrBadRequest, typ)
	}
	return nil
}

// strongObject decodes the object stored under key, nil if there is none.
func strongObject(s *State, key []byte) (*object.Object, error) {
	b, ok := s.Strong[string(key)]
	if !ok {
		return nil, nil
	}
	o, err := object.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("meta: stored strong object: %w", err)
	}
	return o, nil
}

// storeStrong stores the object a write produced. A write that passed the
// context check covers every version, so exactly one value is left;
// anything else is a bug, and storing it would breed siblings in a
// keyspace that promises none.
func storeStrong(s *State, key []byte, o *object.Object, res *Result) error {
	if n := o.Len(); n != 1 {
		return fmt.Errorf("meta: strong write left %d values, want 1", n)
	}
	b, err := object.Encode(o)
	if err != nil {
		return fmt.Errorf("meta: encode strong object: %w", err)
	}
	s.Strong[string(key)] = b
	res.Object = b
	return nil
}
