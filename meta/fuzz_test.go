package meta

import (
	"bytes"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/node"
)

// seedCommands are real encoded commands of every op, the fuzzers' seeds.
func seedCommands(tb testing.TB) [][]byte {
	k := strongKey("k1")
	bodies := []struct {
		op   Op
		body any
	}{
		{OpInit, InitCmd{RingSize: 64, TargetN: 3, First: Member{ID: "n1"}}},
		{OpRegister, RegisterCmd{Member: Member{ID: "n7", HTTPAddr: "h:1"}}},
		{OpSetMemberState, SetMemberStateCmd{ID: "n3", State: Down}},
		{OpRemoveMember, RemoveMemberCmd{ID: "n6"}},
		{OpStage, Change{Kind: ChangeLeave, Node: "n3"}},
		{OpStage, Change{Kind: ChangeForceReplace, Node: "n3", Target: "n6"}},
		{OpClear, nil},
		{OpCommit, CommitCmd{Epoch: 3}},
		{OpCreateType, TypeCmd{Name: "t", Props: []byte(`{"consistent":true,"n_val":5}`)}},
		{OpActivateType, TypeCmd{Name: "idle"}},
		{OpUpdateType, TypeCmd{Name: "sc", Props: []byte(`{"r":"all"}`)}},
		{OpSetBucketProps, BucketPropsCmd{Type: "sc", Bucket: "b", Props: []byte(`{"w":1}`)}},
		{OpResetBucketProps, BucketPropsCmd{Type: "sc", Bucket: "b"}},
		{OpStrongPut, StrongPutCmd{Key: strongKey("new"), Content: content("v")}},
		{OpStrongPut, StrongPutCmd{Key: k, Context: "AQ==", Content: content("v")}},
		{OpStrongDelete, StrongDeleteCmd{Key: k, LastModified: lm}},
	}
	var out [][]byte
	for _, b := range bodies {
		data, err := Encode(b.op, b.body)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range seedCommands(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := DecodeCommand(b)
		if err != nil {
			return
		}
		again, err := marshal(&cmd)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeCommand(again)
		if err != nil || back.Op != cmd.Op || !bytes.Equal(back.Body, cmd.Body) {
			t.Fatalf("%+v re-encoded decodes as %+v, %v", cmd, back, err)
		}
	})
}

// FuzzApply applies random bytes, both as a whole entry and as the body
// of each op, to an FSM with a rich state: it must never panic, must
// answer with a Result, and must stay consistent and usable.
func FuzzApply(f *testing.F) {
	for _, s := range seedCommands(f) {
		f.Add(s)
	}
	// Inputs that once broke msgpack's decoder: a nil for a time.Time in
	// an array-encoded struct (a panic), and a bin claiming 3 GB (pooled
	// decoders kept growing).
	f.Add([]byte("\x93\xc0\xc0\xc0"))
	f.Add([]byte("\x82\xa2op\x0c\xa1b\xc6\xc6\xc6\xc6\xc6\xc4"))
	h := newHarness(f)
	richHistory(h)
	snap := snapshotBytes(f, h.f)
	start := h.idx

	f.Fuzz(func(t *testing.T, data []byte) { fuzzApplyOne(t, snap, start, data) })
}

func fuzzApplyOne(t *testing.T, snap []byte, start uint64, data []byte) {
	{
		fsm := NewFSM(node.DefaultProps(), nil)
		if err := fsm.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
			t.Fatal(err)
		}
		idx := start
		apply := func(data []byte) {
			idx++
			res, ok := fsm.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: data}).(*Result)
			if !ok || res == nil || res.Index != idx || fsm.AppliedIndex() != idx {
				t.Fatalf("Apply returned %+v", res)
			}
		}
		apply(data)
		for op := range Op(16) {
			body, _ := msgpack.Marshal(&Command{Op: op, Body: data})
			apply(body)
		}
		checkInvariants(t, fsm.State())
		_, _ = fsm.Plan()

		// Still usable: a snapshot restores, a command applies.
		b := snapshotBytes(t, fsm)
		if err := NewFSM(node.DefaultProps(), nil).Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
			t.Fatalf("snapshot after fuzzing does not restore: %v", err)
		}
		ok, _ := Encode(OpRegister, RegisterCmd{Member: Member{ID: "after"}})
		apply(ok)
		if _, found := fsm.Member("after"); !found {
			t.Fatal("FSM stopped applying commands")
		}
	}
}

// checkInvariants checks what the FSM promises of every state it reaches.
func checkInvariants(t *testing.T, s *State) {
	t.Helper()
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	if r := s.Ring; r != nil {
		for p, o := range r.Owners {
			if _, ok := s.Members[o]; !ok {
				t.Fatalf("partition %d owned by %q, not a member", p, o)
			}
		}
		for _, tr := range r.Pending {
			if _, ok := s.Members[tr.To]; !ok {
				t.Fatalf("transfer %+v to a non-member", tr)
			}
		}
		if !slices.IsSortedFunc(r.Pending, func(a, b Transfer) int { return a.Partition - b.Partition }) {
			t.Fatalf("pending not in partition order: %v", r.Pending)
		}
	}
	for _, c := range s.Staged {
		if _, ok := s.Members[c.Node]; !ok {
			t.Fatalf("staged %v names a non-member", c)
		}
	}
	for _, bt := range s.Types {
		if bt.Props.Consistent && (bt.Props.AllowMult || bt.Props.LastWriteWins) {
			t.Fatalf("consistent type %+v allows siblings", bt)
		}
		if bt.Name == node.DefaultType && (bt.Props.Consistent || !bt.Active) {
			t.Fatalf("default type %+v", bt)
		}
	}
	if got := s.Clone(); !reflect.DeepEqual(got, s) {
		t.Fatal("Clone differs from its original")
	}
}
