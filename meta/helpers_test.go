package meta

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/cairnkv/cairn/node"
)

// harness drives an FSM with encoded commands at increasing indexes.
type harness struct {
	t   testing.TB
	f   *FSM
	idx uint64
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, f: NewFSM(node.DefaultProps(), nil)}
}

// apply encodes and applies one command and checks what every Result
// must hold.
func (h *harness) apply(op Op, body any) *Result {
	h.t.Helper()
	data, err := Encode(op, body)
	if err != nil {
		h.t.Fatalf("Encode(%s): %v", op, err)
	}
	h.idx++
	v := h.f.Apply(&raft.Log{Index: h.idx, Type: raft.LogCommand, Data: data})
	res, ok := v.(*Result)
	if !ok || res == nil {
		h.t.Fatalf("Apply(%s) returned %T %v, want *Result", op, v, v)
	}
	if res.Index != h.idx {
		h.t.Fatalf("Apply(%s): Result.Index %d, want %d", op, res.Index, h.idx)
	}
	if got := h.f.AppliedIndex(); got != h.idx {
		h.t.Fatalf("Apply(%s): AppliedIndex %d, want %d", op, got, h.idx)
	}
	return res
}

// ok applies a command that must succeed.
func (h *harness) ok(op Op, body any) *Result {
	h.t.Helper()
	res := h.apply(op, body)
	if err := res.Err(); err != nil {
		h.t.Fatalf("%s %+v: %v", op, body, err)
	}
	return res
}

// fails applies a command that must fail with want, and checks that the
// error survives its wire form and that the state did not change.
func (h *harness) fails(op Op, body any, want error) *Result {
	h.t.Helper()
	before := h.f.State()
	res := h.apply(op, body)
	err := res.Err()
	if !errors.Is(err, want) {
		h.t.Fatalf("%s %+v: got %v (code %d), want %v", op, body, err, res.Code, want)
	}
	after := h.f.State()
	before.Index, after.Index = 0, 0
	if !reflect.DeepEqual(before, after) {
		h.t.Fatalf("%s %+v failed (%v) but changed the state", op, body, err)
	}
	return res
}

// cluster initialises a 64-partition ring (target n 3) owned by first
// and registers the others as joining.
func (h *harness) cluster(first string, others ...string) {
	h.t.Helper()
	h.ok(OpInit, InitCmd{RingSize: 64, TargetN: 3, First: Member{ID: first}})
	for _, id := range others {
		h.ok(OpRegister, RegisterCmd{Member: Member{ID: id}})
	}
}

// join stages joins of ids and commits them.
func (h *harness) join(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		h.ok(OpStage, Change{Kind: ChangeJoin, Node: id})
	}
	h.commit()
}

func (h *harness) commit() *Result {
	h.t.Helper()
	return h.ok(OpCommit, CommitCmd{Epoch: h.f.Ring().Epoch})
}

// snapshotBytes persists a snapshot of f.
func snapshotBytes(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if !sink.closed {
		t.Fatal("Persist did not close the sink")
	}
	return sink.Bytes()
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

var _ raft.SnapshotSink = (*memSink)(nil)
