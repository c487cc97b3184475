package meta

import (
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairnkv/cairn/node"
)

// TestRandomRingHistories applies random ring commands, valid or not, to
// a state and checks after each that the state keeps its invariants, that
// failed commands change nothing, and that a commit applies exactly the
// plan computed just before it.
func TestRandomRingHistories(t *testing.T) {
	ids := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7"}
	kinds := []ChangeKind{ChangeJoin, ChangeLeave, ChangeForceRemove, ChangeReplace, ChangeForceReplace}
	states := []MemberState{Joining, Valid, Leaving, Exiting, Down}

	rapid.Check(t, func(rt *rapid.T) {
		s := NewState(node.DefaultProps())
		size := rapid.SampledFrom([]int{8, 16, 64}).Draw(rt, "size")
		n := rapid.IntRange(1, 4).Draw(rt, "targetN")
		mustApply(rt, s, OpInit, InitCmd{RingSize: size, TargetN: n, First: Member{ID: "n1"}})

		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			id := rapid.SampledFrom(ids).Draw(rt, "id")
			var op Op
			var body any
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 8:
				op, body = OpRegister, RegisterCmd{Member: Member{ID: id}}
			case 1:
				op, body = OpSetMemberState, SetMemberStateCmd{ID: id, State: rapid.SampledFrom(states).Draw(rt, "state")}
			case 2, 3, 9:
				c := Change{Kind: rapid.SampledFrom(kinds).Draw(rt, "kind"), Node: id}
				if c.Kind == ChangeReplace || c.Kind == ChangeForceReplace {
					c.Target = rapid.SampledFrom(ids).Draw(rt, "target")
				}
				op, body = OpStage, c
			case 4:
				op, body = OpClear, nil
			case 5, 6:
				checkCommit(rt, s)
				continue
			case 7:
				op, body = OpRemoveMember, RemoveMemberCmd{ID: id}
			}
			if rapid.Bool().Draw(rt, "settle") {
				settle(s)
			}
			before := s.Clone()
			if err := tryApply(s, op, body); err != nil {
				if !reflect.DeepEqual(s, before) {
					rt.Fatalf("%s %+v failed (%v) and changed the state", op, body, err)
				}
			}
			checkRingInvariants(rt, s)
		}
	})
}

func checkCommit(rt *rapid.T, s *State) {
	p, err := ComputePlan(s)
	before := s.Clone()
	cerr := tryApply(s, OpCommit, CommitCmd{Epoch: s.Ring.Epoch})
	if CodeOf(err) != CodeOf(cerr) {
		rt.Fatalf("plan said %v, commit said %v", err, cerr)
	}
	if err != nil {
		if !reflect.DeepEqual(s, before) {
			rt.Fatal("a failed commit changed the state")
		}
		return
	}
	future := slices.Clone(s.Ring.Owners)
	for _, t := range s.Ring.Pending {
		future[t.Partition] = t.To
	}
	if !slices.Equal(future, p.Next) {
		rt.Fatalf("committed ring %v, plan said %v", future, p.Next)
	}
	if s.Ring.Epoch != p.Epoch+1 || s.Staged != nil {
		rt.Fatalf("epoch %d after plan at %d, staged %v", s.Ring.Epoch, p.Epoch, s.Staged)
	}
	for _, np := range p.Nodes {
		m, ok := s.Members[np.ID]
		switch {
		case np.State == Removed && ok:
			rt.Fatalf("%s still a member after the plan removed it", np.ID)
		case np.State != Removed && (!ok || m.State != np.State):
			rt.Fatalf("%s is %+v, plan said %s", np.ID, m, np.State)
		}
	}
	checkRingInvariants(rt, s)
}

func checkRingInvariants(rt *rapid.T, s *State) {
	if err := s.check(); err != nil {
		rt.Fatal(err)
	}
	for p, o := range s.Ring.Owners {
		if _, ok := s.Members[o]; !ok {
			rt.Fatalf("partition %d owned by %s, not a member", p, o)
		}
	}
	for _, t := range s.Ring.Pending {
		if _, ok := s.Members[t.To]; !ok || t.From == t.To {
			rt.Fatalf("transfer %+v", t)
		}
	}
	seen := map[string]bool{}
	for _, c := range s.Staged {
		for _, id := range []string{c.Node, c.Target} {
			if id == "" {
				continue
			}
			if _, ok := s.Members[id]; !ok || seen[id] {
				rt.Fatalf("staged %v: unknown or repeated node %s", s.Staged, id)
			}
			seen[id] = true
		}
	}
}

func tryApply(s *State, op Op, body any) error {
	data, err := Encode(op, body)
	if err != nil {
		return err
	}
	cmd, err := DecodeCommand(data)
	if err != nil {
		return err
	}
	return applyCommand(s, cmd, &Result{})
}

func mustApply(rt *rapid.T, s *State, op Op, body any) {
	if err := tryApply(s, op, body); err != nil {
		rt.Fatal(err)
	}
}
