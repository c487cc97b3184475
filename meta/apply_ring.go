package meta

import (
	"fmt"
	"slices"
)

// String renders a change as the cluster command that staged it.
func (c Change) String() string {
	if c.Target != "" {
		return fmt.Sprintf("%s %s with %s", c.Kind, c.Node, c.Target)
	}
	return fmt.Sprintf("%s %s", c.Kind, c.Node)
}

func applyStage(s *State, c *Change, _ *Result) error {
	if err := checkChange(s, s.Staged, *c); err != nil {
		return err
	}
	s.Staged = append(s.Staged, *c)
	return nil
}

func applyClear(s *State, _ []byte, _ *Result) error {
	s.Staged = nil
	return nil
}

// applyCommit applies the plan of the staged changes. The epoch is checked
// before anything else: a commit planned against an epoch another commit
// has moved past reports ErrStaleEpoch (the other commit won), even though
// that commit also cleared the staged changes.
func applyCommit(s *State, cmd *CommitCmd, res *Result) error {
	if s.Ring == nil {
		return ErrNoRing
	}
	if cmd.Epoch != s.Ring.Epoch {
		return fmt.Errorf("%w: planned at epoch %d, the ring is at epoch %d", ErrStaleEpoch, cmd.Epoch, s.Ring.Epoch)
	}
	out, err := plan(s)
	if err != nil {
		return err
	}
	r := s.Ring.clone()
	r.Epoch++
	r.Owners = out.owners
	r.Pending = cloneOrNil(out.pending)
	s.Ring = r
	for _, id := range sortedKeys(out.states) {
		st := out.states[id]
		if st == Removed {
			delete(s.Members, id)
			continue
		}
		m := *s.Members[id]
		m.State = st
		s.Members[id] = &m
	}
	s.Staged = nil
	res.Epoch = r.Epoch
	return nil
}

// checkChange reports whether c may be staged after the changes staged:
// the same rules hold when staging and when planning, since member states
// may change between the two.
func checkChange(s *State, staged []Change, c Change) error {
	if s.Ring == nil {
		return ErrNoRing
	}
	if c.Node == "" {
		return fmt.Errorf("%w: %s names no node", ErrBadChange, c.Kind)
	}
	m, ok := s.Members[c.Node]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMember, c.Node)
	}
	replace := c.Kind == ChangeReplace || c.Kind == ChangeForceReplace
	if !replace && c.Target != "" {
		return fmt.Errorf("%w: %s takes no target, got %s", ErrBadChange, c.Kind, c.Target)
	}
	for _, id := range []string{c.Node, c.Target} {
		for _, o := range staged {
			if id != "" && (o.Node == id || o.Target == id) {
				return fmt.Errorf("%w: %s already has a staged change (%s); clear it first", ErrBadChange, id, o)
			}
		}
	}
	switch c.Kind {
	case ChangeJoin:
		if m.State != Joining {
			return fmt.Errorf("%w: %s is %s, only a joining node can join", ErrBadChange, c.Node, m.State)
		}
	case ChangeLeave:
		if m.State != Valid {
			return fmt.Errorf("%w: %s is %s, only a valid node can leave", ErrBadChange, c.Node, m.State)
		}
	case ChangeForceRemove:
		if !slices.Contains([]MemberState{Valid, Leaving, Down}, m.State) {
			return fmt.Errorf("%w: %s is %s, only a valid, leaving or down node can be force-removed",
				ErrBadChange, c.Node, m.State)
		}
	case ChangeReplace, ChangeForceReplace:
		if !slices.Contains([]MemberState{Valid, Leaving, Down}, m.State) {
			return fmt.Errorf("%w: %s is %s, only a valid, leaving or down node can be replaced",
				ErrBadChange, c.Node, m.State)
		}
		if c.Target == "" {
			return fmt.Errorf("%w: %s of %s names no replacement", ErrBadChange, c.Kind, c.Node)
		}
		if c.Target == c.Node {
			return fmt.Errorf("%w: %s cannot replace itself", ErrBadChange, c.Node)
		}
		t, ok := s.Members[c.Target]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownMember, c.Target)
		}
		if t.State != Joining {
			return fmt.Errorf("%w: %s is %s, only a joining node can replace %s", ErrBadChange, c.Target, t.State, c.Node)
		}
	default:
		return fmt.Errorf("%w: unknown change kind %q", ErrBadChange, c.Kind)
	}
	if (c.Kind == ChangeLeave || c.Kind == ChangeForceRemove) && validAfter(s, append(slices.Clone(staged), c)) == 0 {
		return fmt.Errorf("%w: %s is the last valid member once the staged changes apply; it cannot %s",
			ErrBadChange, c.Node, c.Kind)
	}
	return nil
}

// validAfter counts the members that would be valid once changes applied.
func validAfter(s *State, changes []Change) int {
	valid := map[string]bool{}
	for id, m := range s.Members {
		if m.State == Valid {
			valid[id] = true
		}
	}
	for _, c := range changes {
		switch c.Kind {
		case ChangeJoin:
			valid[c.Node] = true
		case ChangeLeave, ChangeForceRemove:
			delete(valid, c.Node)
		case ChangeReplace, ChangeForceReplace:
			delete(valid, c.Node)
			valid[c.Target] = true
		}
	}
	return len(valid)
}

// applyCompleteTransfer makes a pending transfer's receiver the owner of
// its partition and bumps the epoch, so that gossip tells every node to
// route by the new owner. A leaving member left with nothing to hand off
// or receive becomes exiting. A transfer that is no longer pending (a
// duplicate completion, or a plan that changed it since) is refused with
// ErrNoTransfer and changes nothing.
func applyCompleteTransfer(s *State, cmd *TransferCmd, res *Result) error {
	if s.Ring == nil {
		return ErrNoRing
	}
	i := slices.IndexFunc(s.Ring.Pending, func(t Transfer) bool {
		return t.Partition == cmd.Partition && t.From == cmd.From && t.To == cmd.To
	})
	if i < 0 {
		return fmt.Errorf("%w: partition %d from %s to %s", ErrNoTransfer, cmd.Partition, cmd.From, cmd.To)
	}
	r := s.Ring.clone()
	r.Epoch++
	r.Owners[cmd.Partition] = cmd.To
	r.Pending = cloneOrNil(slices.Delete(slices.Clone(r.Pending), i, i+1))
	s.Ring = r
	if m, ok := s.Members[cmd.From]; ok && m.State == Leaving {
		busy := slices.Contains(r.Owners, cmd.From) || slices.ContainsFunc(r.Pending, func(t Transfer) bool {
			return t.From == cmd.From || t.To == cmd.From
		})
		if !busy {
			next := *m
			next.State = Exiting
			s.Members[cmd.From] = &next
		}
	}
	res.Epoch = r.Epoch
	return nil
}
