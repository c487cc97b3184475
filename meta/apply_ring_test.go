package meta

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

func TestStage(t *testing.T) {
	// Every case starts from: n1 and n2 valid (n2 joined), n3 and n4
	// joining, n5 down (joined, then marked down); then stages pre.
	setup := func(t *testing.T, pre ...Change) *harness {
		h := newHarness(t)
		h.cluster("n1", "n2", "n3", "n4", "n5")
		h.join("n2", "n5")
		h.ok(OpSetMemberState, SetMemberStateCmd{ID: "n5", State: Down})
		for _, c := range pre {
			h.ok(OpStage, c)
		}
		return h
	}
	join := func(n string) Change { return Change{Kind: ChangeJoin, Node: n} }
	leave := func(n string) Change { return Change{Kind: ChangeLeave, Node: n} }
	forceRemove := func(n string) Change { return Change{Kind: ChangeForceRemove, Node: n} }
	replace := func(n, target string) Change { return Change{Kind: ChangeReplace, Node: n, Target: target} }
	forceReplace := func(n, target string) Change { return Change{Kind: ChangeForceReplace, Node: n, Target: target} }

	for _, tc := range []struct {
		name    string
		pre     []Change
		change  Change
		want    error // nil: staged
		wantMsg string
	}{
		{name: "join a joining node", change: join("n3")},
		{name: "join a valid node", change: join("n2"), want: ErrBadChange,
			wantMsg: "meta: invalid cluster change: n2 is valid, only a joining node can join"},
		{name: "join an unknown node", change: join("n9"), want: ErrUnknownMember},
		{name: "join with no node", change: join(""), want: ErrBadChange},
		{name: "join with a target", change: Change{Kind: ChangeJoin, Node: "n3", Target: "n4"}, want: ErrBadChange},
		{name: "second change for a node", pre: []Change{join("n3")}, change: replace("n1", "n3"), want: ErrBadChange,
			wantMsg: "meta: invalid cluster change: n3 already has a staged change (join n3); clear it first"},
		{name: "same change twice", pre: []Change{join("n3")}, change: join("n3"), want: ErrBadChange},
		{name: "unknown kind", change: Change{Kind: "explode", Node: "n1"}, want: ErrBadChange},

		{name: "leave a valid node", change: leave("n2")},
		{name: "leave a joining node", change: leave("n3"), want: ErrBadChange,
			wantMsg: "meta: invalid cluster change: n3 is joining, only a valid node can leave"},
		{name: "leave a down node", change: leave("n5"), want: ErrBadChange},
		{name: "leave the last valid node", pre: []Change{leave("n2")}, change: leave("n1"), want: ErrBadChange,
			wantMsg: "meta: invalid cluster change: n1 is the last valid member once the staged changes apply; it cannot leave"},
		{name: "leave the last valid node, a join staged", pre: []Change{leave("n2"), join("n3")}, change: leave("n1")},

		{name: "force-remove a down node", change: forceRemove("n5")},
		{name: "force-remove a valid node", change: forceRemove("n2")},
		{name: "force-remove a joining node", change: forceRemove("n3"), want: ErrBadChange},
		{name: "force-remove the last valid node", pre: []Change{leave("n2")}, change: forceRemove("n1"), want: ErrBadChange},

		{name: "replace a valid node", change: replace("n2", "n3")},
		{name: "replace a down node", change: replace("n5", "n3")},
		{name: "force-replace a down node", change: forceReplace("n5", "n3")},
		{name: "replace a joining node", change: replace("n4", "n3"), want: ErrBadChange},
		{name: "replace with a valid node", change: replace("n1", "n2"), want: ErrBadChange,
			wantMsg: "meta: invalid cluster change: n2 is valid, only a joining node can replace n1"},
		{name: "replace with itself", change: forceReplace("n1", "n1"), want: ErrBadChange},
		{name: "replace with nobody", change: replace("n1", ""), want: ErrBadChange},
		{name: "replace with an unknown node", change: replace("n1", "n9"), want: ErrUnknownMember},
		{name: "replace with a staged target", pre: []Change{replace("n1", "n3")}, change: replace("n2", "n3"), want: ErrBadChange},
		{name: "replace with a node joining", pre: []Change{join("n3")}, change: replace("n2", "n3"), want: ErrBadChange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := setup(t, tc.pre...)
			if tc.want == nil {
				h.ok(OpStage, tc.change)
				want := append(append([]Change(nil), tc.pre...), tc.change)
				if got := h.f.Staged(); !reflect.DeepEqual(got, want) {
					t.Fatalf("staged %v, want %v", got, want)
				}
				if _, err := h.f.Plan(); err != nil {
					t.Fatalf("Plan: %v", err)
				}
				return
			}
			res := h.fails(OpStage, tc.change, tc.want)
			if tc.wantMsg != "" && res.Msg != tc.wantMsg {
				t.Fatalf("message %q, want %q", res.Msg, tc.wantMsg)
			}
		})
	}
}

func TestStageWithoutRing(t *testing.T) {
	h := newHarness(t)
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n1"}})
	h.fails(OpStage, Change{Kind: ChangeJoin, Node: "n1"}, ErrNoRing)
	h.fails(OpCommit, CommitCmd{Epoch: 0}, ErrNoRing)
	if _, err := h.f.Plan(); !errors.Is(err, ErrNoRing) {
		t.Fatalf("Plan: %v, want ErrNoRing", err)
	}
}

func TestClear(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2")
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n2"})
	h.ok(OpClear, nil)
	if got := h.f.Staged(); got != nil {
		t.Fatalf("staged %v after clear", got)
	}
	if _, err := h.f.Plan(); !errors.Is(err, ErrNothingStaged) {
		t.Fatalf("Plan: %v, want ErrNothingStaged", err)
	}
	h.ok(OpClear, nil) // clearing nothing is fine
}

func TestCommit(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2", "n3")
	h.fails(OpCommit, CommitCmd{Epoch: 1}, ErrNothingStaged)

	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n2"})
	h.fails(OpCommit, CommitCmd{Epoch: 7}, ErrStaleEpoch)
	plan, err := h.f.Plan()
	if err != nil {
		t.Fatal(err)
	}
	res := h.ok(OpCommit, CommitCmd{Epoch: plan.Epoch})
	if res.Epoch != 2 {
		t.Fatalf("epoch after commit %d, want 2", res.Epoch)
	}
	r := h.f.Ring()
	if r.Epoch != 2 || h.f.Staged() != nil {
		t.Fatalf("ring epoch %d, staged %v", r.Epoch, h.f.Staged())
	}
	if m, _ := h.f.Member("n2"); m.State != Valid {
		t.Fatalf("n2 is %s after its join, want valid", m.State)
	}
	// The plan shown is the plan applied: owners keep serving, the moves
	// are pending.
	var pending []Transfer
	for p, o := range plan.Next {
		if o != "n1" {
			pending = append(pending, Transfer{Partition: p, From: "n1", To: o})
		}
	}
	if !reflect.DeepEqual(r.Pending, pending) {
		t.Fatalf("pending %v, want %v", r.Pending, pending)
	}
	if count(r.Owners, "n1") != 64 {
		t.Fatalf("owners changed before handoff: %v", r.Owners)
	}

	// A second commit planned against the same epoch loses.
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n3"})
	h.fails(OpCommit, CommitCmd{Epoch: plan.Epoch}, ErrStaleEpoch)
	h.commit()
	h.fails(OpCommit, CommitCmd{Epoch: 2}, ErrStaleEpoch)
}

// A staged change that no longer fits (its node was marked down since)
// fails the plan and the commit with a reason, rather than committing
// something nobody asked for.
func TestCommitRechecksStagedChanges(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2")
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n2"})
	h.ok(OpSetMemberState, SetMemberStateCmd{ID: "n2", State: Down})
	if _, err := h.f.Plan(); !errors.Is(err, ErrBadChange) {
		t.Fatalf("Plan: %v, want ErrBadChange", err)
	}
	h.fails(OpCommit, CommitCmd{Epoch: 1}, ErrBadChange)
}

// Malformed entries fail as ErrBadCommand, and malformed bodies never
// panic, whatever the op.
func TestMalformedEntries(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1")
	apply := func(entry []byte) *Result {
		h.idx++
		return h.f.Apply(&raft.Log{Index: h.idx, Type: raft.LogCommand, Data: entry}).(*Result)
	}
	for _, data := range [][]byte{nil, {0xc0}, []byte("\x93\xc0\xc0\xc0"), []byte("\x82\xa2op\x0c\xa1b\xc6\xc6\xc6\xc6\xc6")} {
		if res := apply(data); !errors.Is(res.Err(), ErrBadCommand) {
			t.Fatalf("entry %q: %v, want ErrBadCommand", data, res.Err())
		}
		for op := range Op(16) {
			apply(mustMarshal(t, &Command{Op: op, Body: data}))
		}
	}
	// The panic msgpack raised on this one is an error now.
	if res := apply(mustMarshal(t, &Command{Op: OpStrongDelete, Body: []byte("\x93\xc0\xc0\xc0")})); !errors.Is(res.Err(), ErrBadCommand) {
		t.Fatalf("strong delete of [nil, nil, nil]: %v", res.Err())
	}
	checkInvariants(t, h.f.State())

	// Other entry types pass through untouched.
	before := h.f.State()
	res := h.f.Apply(&raft.Log{Index: h.idx + 1, Type: raft.LogNoop}).(*Result)
	if res.Err() != nil || res.Index != h.idx+1 || !reflect.DeepEqual(h.f.State(), before) {
		t.Fatalf("noop entry: %+v", res)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Completing transfers moves ownership one partition at a time, bumps the
// epoch each time, refuses a transfer that is not pending, and turns a
// leaver that has handed everything off into an exiting member.
func TestCompleteTransfer(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1", "n2")
	h.fails(OpCompleteTransfer, TransferCmd{Partition: 0, From: "n1", To: "n2"}, ErrNoTransfer)
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n2"})
	h.commit()
	pending := h.f.Ring().Pending
	if len(pending) == 0 {
		t.Fatal("a join committed no transfer")
	}
	for i, tr := range pending {
		epoch := h.f.Ring().Epoch
		h.fails(OpCompleteTransfer, TransferCmd{Partition: tr.Partition, From: tr.To, To: tr.From}, ErrNoTransfer)
		res := h.ok(OpCompleteTransfer, TransferCmd(tr))
		r := h.f.Ring()
		if res.Epoch != epoch+1 || r.Epoch != epoch+1 {
			t.Fatalf("epoch %d (result %d) after completing at %d", r.Epoch, res.Epoch, epoch)
		}
		if r.Owners[tr.Partition] != tr.To || len(r.Pending) != len(pending)-i-1 {
			t.Fatalf("after %v: owner %s, %d pending", tr, r.Owners[tr.Partition], len(r.Pending))
		}
		h.fails(OpCompleteTransfer, TransferCmd(tr), ErrNoTransfer)
	}

	h.ok(OpStage, Change{Kind: ChangeLeave, Node: "n2"})
	h.commit()
	if m, _ := h.f.Member("n2"); m.State != Leaving {
		t.Fatalf("n2 is %s after its leave, want leaving", m.State)
	}
	back := h.f.Ring().Pending
	for _, tr := range back[:len(back)-1] {
		h.ok(OpCompleteTransfer, TransferCmd(tr))
		if m, _ := h.f.Member("n2"); m.State != Leaving {
			t.Fatalf("n2 is %s with transfers left, want leaving", m.State)
		}
	}
	h.ok(OpCompleteTransfer, TransferCmd(back[len(back)-1]))
	if m, _ := h.f.Member("n2"); m.State != Exiting {
		t.Fatalf("n2 is %s after handing everything off, want exiting", m.State)
	}
	if c := count(h.f.Ring().Owners, "n1"); c != 64 {
		t.Fatalf("n1 owns %d partitions after n2 left, want 64", c)
	}
}
