package meta

import (
	"fmt"

	"github.com/cairnkv/cairn/node"
)

// New types start from the default type's properties as the log has them,
// not from this node's configuration, so that every replica derives the
// same properties whatever its config says.
func applyCreateType(s *State, cmd *TypeCmd, res *Result) error {
	if err := checkTypeName(cmd.Name); err != nil {
		return err
	}
	if _, ok := s.Types[cmd.Name]; ok || cmd.Name == node.DefaultType {
		return fmt.Errorf("%w: %q", ErrTypeExists, cmd.Name)
	}
	base := s.Types[node.DefaultType].Props
	base.Consistent = false
	p, err := mergeProps(base, cmd.Props)
	if err != nil {
		return fmt.Errorf("meta: bucket type %q: %w", cmd.Name, err)
	}
	p = strongProps(p)
	if err := p.Validate(); err != nil {
		return fmt.Errorf("meta: bucket type %q: %w", cmd.Name, err)
	}
	t := &BucketType{Name: cmd.Name, Props: p}
	s.Types[cmd.Name] = t
	res.Type = ptr(*t)
	return nil
}

func applyActivateType(s *State, cmd *TypeCmd, res *Result) error {
	t, err := lookupType(s, cmd.Name)
	if err != nil {
		return err
	}
	if !t.Active {
		t = ptr(*t)
		t.Active = true
		s.Types[cmd.Name] = t
	}
	res.Type = ptr(*t)
	return nil
}

// applyUpdateType merges cmd.Props into a type's properties. consistent
// never changes (the type's keys live in the Raft group or on the ring,
// never both), nor does n_val once a consistent type is active.
func applyUpdateType(s *State, cmd *TypeCmd, res *Result) error {
	t, err := lookupType(s, cmd.Name)
	if err != nil {
		return err
	}
	p, err := mergeProps(t.Props, cmd.Props)
	if err == nil {
		err = checkFixed(t.Props, p, t.Active)
	}
	if err == nil {
		p = strongProps(p)
		err = p.Validate()
	}
	if err != nil {
		return fmt.Errorf("meta: bucket type %q: %w", cmd.Name, err)
	}
	t = ptr(*t)
	t.Props = p
	s.Types[cmd.Name] = t
	res.Type = ptr(*t)
	return nil
}

// applySetBucketProps merges cmd.Props over the bucket's effective
// properties and stores the result as its override. Result.Type carries
// the bucket's properties after the command, under its type's name.
func applySetBucketProps(s *State, cmd *BucketPropsCmd, res *Result) error {
	tp, err := activeTypeProps(s, cmd.Type)
	if err != nil {
		return err
	}
	if err := checkBucketName(cmd.Bucket); err != nil {
		return err
	}
	id := string(node.BucketPrefix(cmd.Type, cmd.Bucket))
	cur, ok := s.Buckets[id]
	if !ok {
		cur = tp
	}
	p, err := mergeProps(cur, cmd.Props)
	if err == nil {
		err = checkFixed(tp, p, true)
	}
	if err == nil {
		p = strongProps(p)
		err = p.Validate()
	}
	if err != nil {
		return fmt.Errorf("meta: bucket %q of type %q: %w", cmd.Bucket, cmd.Type, err)
	}
	s.Buckets[id] = p
	res.Type = &BucketType{Name: cmd.Type, Props: p, Active: true}
	return nil
}

// applyResetBucketProps drops a bucket's override. Result.Type carries the
// bucket's properties after the command (its type's), under the type's
// name.
func applyResetBucketProps(s *State, cmd *BucketPropsCmd, res *Result) error {
	tp, err := activeTypeProps(s, cmd.Type)
	if err != nil {
		return err
	}
	if err := checkBucketName(cmd.Bucket); err != nil {
		return err
	}
	delete(s.Buckets, string(node.BucketPrefix(cmd.Type, cmd.Bucket)))
	res.Type = &BucketType{Name: cmd.Type, Props: tp, Active: true}
	return nil
}

func checkTypeName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("meta: %w: empty bucket type name", node.ErrBadRequest)
	case len(name) > node.MaxTypeLen:
		return fmt.Errorf("meta: %w: bucket type name longer than %d bytes", node.ErrBadRequest, node.MaxTypeLen)
	}
	return nil
}

func checkBucketName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("meta: %w: empty bucket", node.ErrBadRequest)
	case len(name) > node.MaxBucketLen:
		return fmt.Errorf("meta: %w: bucket longer than %d bytes", node.ErrBadRequest, node.MaxBucketLen)
	}
	return nil
}

// lookupType returns the named type, active or not (node.ErrUnknownBucketType).
func lookupType(s *State, name string) (*BucketType, error) {
	t, ok := s.Types[name]
	if !ok {
		return nil, fmt.Errorf("meta: %w: %q", node.ErrUnknownBucketType, name)
	}
	return t, nil
}

// activeTypeProps returns the named type's properties: ErrTypeNotActive
// when it exists but is not active, node.ErrUnknownBucketType when absent.
func activeTypeProps(s *State, name string) (node.Props, error) {
	t, err := lookupType(s, name)
	if err != nil {
		return node.Props{}, err
	}
	if !t.Active {
		return node.Props{}, fmt.Errorf("%w: %q", ErrTypeNotActive, name)
	}
	return t.Props, nil
}

// mergeProps merges the JSON object raw over p; an empty raw changes
// nothing.
func mergeProps(p node.Props, raw []byte) (node.Props, error) {
	if len(raw) == 0 {
		return p, nil
	}
	return p.Merge(raw)
}

// checkFixed rejects next if it changes what base fixes: consistent
// always, and n_val of a consistent type when nvalFixed.
func checkFixed(base, next node.Props, nvalFixed bool) error {
	if next.Consistent != base.Consistent {
		return fmt.Errorf("%w: consistent is fixed at creation", node.ErrBadProps)
	}
	if base.Consistent && nvalFixed && next.NVal != base.NVal {
		return fmt.Errorf("%w: n_val of an active consistent type is fixed (%d)", node.ErrBadProps, base.NVal)
	}
	return nil
}

// strongProps gives consistent properties the only values that make sense
// for a strongly consistent keyspace: a write that does not carry the
// current version's context fails, so there are never siblings to allow,
// and no last write wins over another.
func strongProps(p node.Props) node.Props {
	if p.Consistent {
		p.AllowMult = false
		p.LastWriteWins = false
	}
	return p
}

func ptr[T any](v T) *T { return &v }
