package meta

import (
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/ring"
)

// applyInit creates the ring with cmd.First as its only member and owner.
// Once a ring exists it succeeds without effect, so that every node may
// propose it at start-up and the first to commit wins.
func applyInit(s *State, cmd *InitCmd, res *Result) error {
	if s.Ring != nil {
		res.Epoch = s.Ring.Epoch
		return nil
	}
	// ring.Config.Validate is a constant range (a power of two in
	// [ring.MinSize, ring.MaxSize]), the same on every node: it keeps the
	// FSM from accepting a ring that ring.New and ring.Claim would refuse.
	if err := (ring.Config{Size: cmd.RingSize}).Validate(); err != nil {
		return fmt.Errorf("%w: init: %w", ErrBadCommand, err)
	}
	if cmd.TargetN < 1 || cmd.TargetN > cmd.RingSize {
		return fmt.Errorf("%w: init: target n_val must be between 1 and the ring size %d, got %d",
			ErrBadCommand, cmd.RingSize, cmd.TargetN)
	}
	if cmd.First.ID == "" {
		return fmt.Errorf("%w: init: the first member needs an id", ErrBadCommand)
	}
	first := cmd.First
	if m, ok := s.Members[first.ID]; ok {
		first = mergeAddrs(*m, first)
	}
	first.State = Valid
	s.Members[first.ID] = &first
	owners := make([]string, cmd.RingSize)
	for p := range owners {
		owners[p] = first.ID
	}
	s.Ring = &RingState{Size: cmd.RingSize, TargetN: cmd.TargetN, Epoch: 1, Owners: owners}
	res.Epoch = 1
	return nil
}

// applyRegister adds a member as joining, or updates the addresses of an
// existing one (its state is kept: a restarting node re-registers).
func applyRegister(s *State, cmd *RegisterCmd, _ *Result) error {
	m := cmd.Member
	if m.ID == "" {
		return fmt.Errorf("%w: register: empty member id", ErrBadCommand)
	}
	if cur, ok := s.Members[m.ID]; ok {
		updated := mergeAddrs(*cur, m)
		s.Members[m.ID] = &updated
		return nil
	}
	m.State = Joining
	s.Members[m.ID] = &m
	return nil
}

// mergeAddrs returns cur with the non-empty addresses of m.
func mergeAddrs(cur, m Member) Member {
	if m.HTTPAddr != "" {
		cur.HTTPAddr = m.HTTPAddr
	}
	if m.RPCAddr != "" {
		cur.RPCAddr = m.RPCAddr
	}
	if m.RaftAddr != "" {
		cur.RaftAddr = m.RaftAddr
	}
	if m.GossipAddr != "" {
		cur.GossipAddr = m.GossipAddr
	}
	return cur
}

// memberStates are the states a member may be set to.
var memberStates = []MemberState{Joining, Valid, Leaving, Exiting, Down}

func applySetMemberState(s *State, cmd *SetMemberStateCmd, _ *Result) error {
	m, ok := s.Members[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMember, cmd.ID)
	}
	if !slices.Contains(memberStates, cmd.State) {
		return fmt.Errorf("%w: unknown member state %q", ErrBadCommand, cmd.State)
	}
	updated := *m
	updated.State = cmd.State
	s.Members[cmd.ID] = &updated
	return nil
}

// applyRemoveMember forgets a member that has no part in the ring: it owns
// no partition, takes part in no pending transfer and in no staged change.
// Forgetting one that has would leave partitions or plans naming a node
// nobody knows.
func applyRemoveMember(s *State, cmd *RemoveMemberCmd, _ *Result) error {
	if _, ok := s.Members[cmd.ID]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMember, cmd.ID)
	}
	if why := ringRole(s, cmd.ID); why != "" {
		return fmt.Errorf("%w: cannot remove %s: %s", ErrBadChange, cmd.ID, why)
	}
	delete(s.Members, cmd.ID)
	return nil
}

// ringRole says what ties id to the ring, or "" if nothing does.
func ringRole(s *State, id string) string {
	if r := s.Ring; r != nil {
		if n := count(r.Owners, id); n > 0 {
			return fmt.Sprintf("it owns %d partitions", n)
		}
		for _, t := range r.Pending {
			if t.From == id || t.To == id {
				return fmt.Sprintf("it has a pending transfer of partition %d", t.Partition)
			}
		}
	}
	for _, c := range s.Staged {
		if c.Node == id || c.Target == id {
			return fmt.Sprintf("it is in a staged change (%s)", c)
		}
	}
	return ""
}

func count(owners []string, id string) int {
	n := 0
	for _, o := range owners {
		if o == id {
			n++
		}
	}
	return n
}
