package meta

import (
	"reflect"
	"slices"
	"testing"
)

func TestInit(t *testing.T) {
	first := Member{ID: "n1", HTTPAddr: "h1:8098"}
	for _, tc := range []struct {
		name string
		cmd  InitCmd
	}{
		{"zero size", InitCmd{RingSize: 0, TargetN: 3, First: first}},
		{"not a power of two", InitCmd{RingSize: 48, TargetN: 3, First: first}},
		{"below the ring's minimum", InitCmd{RingSize: 4, TargetN: 3, First: first}},
		{"zero target n", InitCmd{RingSize: 64, TargetN: 0, First: first}},
		{"target n over the size", InitCmd{RingSize: 8, TargetN: 9, First: first}},
		{"no first member", InitCmd{RingSize: 64, TargetN: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newHarness(t).fails(OpInit, tc.cmd, ErrBadCommand)
		})
	}

	h := newHarness(t)
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n1", RPCAddr: "r1:8099"}})
	if res := h.ok(OpInit, InitCmd{RingSize: 64, TargetN: 3, First: first}); res.Epoch != 1 {
		t.Fatalf("epoch %d, want 1", res.Epoch)
	}
	r := h.f.Ring()
	if r.Size != 64 || r.TargetN != 3 || r.Epoch != 1 || len(r.Owners) != 64 || r.Pending != nil {
		t.Fatalf("ring %+v", r)
	}
	if slices.ContainsFunc(r.Owners, func(o string) bool { return o != "n1" }) {
		t.Fatalf("owners %v, want all n1", r.Owners)
	}
	want := Member{ID: "n1", State: Valid, HTTPAddr: "h1:8098", RPCAddr: "r1:8099"}
	if m, _ := h.f.Member("n1"); m != want {
		t.Fatalf("member %+v, want %+v", m, want)
	}

	// Once the ring exists, init succeeds and changes nothing, whatever it
	// says: every node may propose it at start-up.
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n2"}})
	h.join("n2")
	before := h.f.State()
	res := h.ok(OpInit, InitCmd{RingSize: 128, TargetN: 2, First: Member{ID: "n9"}})
	if res.Epoch != 2 {
		t.Fatalf("init on an existing ring: epoch %d, want 2", res.Epoch)
	}
	after := h.f.State()
	before.Index = after.Index
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("init on an existing ring changed the state:\n%+v\nwant\n%+v", after, before)
	}
}

func TestRegister(t *testing.T) {
	h := newHarness(t)
	h.fails(OpRegister, RegisterCmd{Member: Member{HTTPAddr: "h:1"}}, ErrBadCommand)

	// New members join as joining, whatever state they claim.
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n2", State: Valid, HTTPAddr: "h2:1", RPCAddr: "r2:1", RaftAddr: "f2:1"}})
	if m, _ := h.f.Member("n2"); m != (Member{ID: "n2", State: Joining, HTTPAddr: "h2:1", RPCAddr: "r2:1", RaftAddr: "f2:1"}) {
		t.Fatalf("registered %+v", m)
	}
	// Re-registering updates the addresses given and keeps the rest.
	h.ok(OpSetMemberState, SetMemberStateCmd{ID: "n2", State: Down})
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n2", State: Joining, HTTPAddr: "h2:2"}})
	if m, _ := h.f.Member("n2"); m != (Member{ID: "n2", State: Down, HTTPAddr: "h2:2", RPCAddr: "r2:1", RaftAddr: "f2:1"}) {
		t.Fatalf("re-registered %+v", m)
	}
	if _, ok := h.f.Member("n3"); ok {
		t.Fatal("Member(n3) found a member never registered")
	}
}

func TestSetMemberState(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2")
	h.fails(OpSetMemberState, SetMemberStateCmd{ID: "n9", State: Down}, ErrUnknownMember)
	h.fails(OpSetMemberState, SetMemberStateCmd{ID: "n2", State: "gone"}, ErrBadCommand)
	h.fails(OpSetMemberState, SetMemberStateCmd{ID: "n2", State: Removed}, ErrBadCommand)
	for _, st := range []MemberState{Down, Valid, Leaving, Exiting, Joining} {
		h.ok(OpSetMemberState, SetMemberStateCmd{ID: "n2", State: st})
		if m, _ := h.f.Member("n2"); m.State != st {
			t.Fatalf("state %s, want %s", m.State, st)
		}
	}
}

func TestRemoveMember(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2", "n3", "n4", "n5")
	h.join("n2") // n2 now has pending transfers to it, owns nothing yet
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n3"})

	for _, tc := range []struct {
		id   string
		want error
	}{
		{"n9", ErrUnknownMember},
		{"n1", ErrBadChange}, // owns partitions
		{"n2", ErrBadChange}, // pending transfers
		{"n3", ErrBadChange}, // staged
	} {
		h.fails(OpRemoveMember, RemoveMemberCmd{ID: tc.id}, tc.want)
	}
	h.ok(OpStage, Change{Kind: ChangeReplace, Node: "n2", Target: "n4"})
	h.fails(OpRemoveMember, RemoveMemberCmd{ID: "n4"}, ErrBadChange) // a staged target
	h.ok(OpRemoveMember, RemoveMemberCmd{ID: "n5"})
	if _, ok := h.f.Member("n5"); ok {
		t.Fatal("n5 still a member")
	}
	if got := len(h.f.Members()); got != 4 {
		t.Fatalf("%d members, want 4", got)
	}
}

func TestMembersSorted(t *testing.T) {
	h := newHarness(t)
	h.cluster("n5", "n3", "n1", "n4", "n2")
	var ids []string
	for _, m := range h.f.Members() {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"n1", "n2", "n3", "n4", "n5"}) {
		t.Fatalf("Members ids %v", ids)
	}
}
