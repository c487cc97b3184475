package meta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// richHistory applies a history that leaves something in every part of
// the state: members in several states, a ring with pending transfers,
// staged changes, types active and not, bucket overrides, strong keys
// live and deleted.
func richHistory(h *harness) {
	h.t.Helper()
	h.cluster("n1", "n2", "n3", "n4", "n5", "n6")
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n2", HTTPAddr: "h2:8098", RPCAddr: "r2:8099", RaftAddr: "f2:8300"}})
	h.join("n2", "n3", "n4")
	h.ok(OpSetMemberState, SetMemberStateCmd{ID: "n4", State: Down})
	h.ok(OpStage, Change{Kind: ChangeJoin, Node: "n5"})
	h.ok(OpStage, Change{Kind: ChangeReplace, Node: "n4", Target: "n6"})
	h.ok(OpCreateType, TypeCmd{Name: "idle", Props: []byte(`{"n_val":2}`)})
	h.ok(OpCreateType, TypeCmd{Name: "sc", Props: []byte(`{"consistent":true}`)})
	h.ok(OpActivateType, TypeCmd{Name: "sc"})
	h.ok(OpSetBucketProps, BucketPropsCmd{Type: node.DefaultType, Bucket: "b", Props: []byte(`{"r":"one"}`)})
	h.ok(OpSetBucketProps, BucketPropsCmd{Type: "sc", Bucket: "b", Props: []byte(`{"w":"all"}`)})
	for _, k := range []string{"k1", "k2", "k3"} {
		c := content(k)
		c.Meta = map[string]string{"z": "1", "a": "2", "m": "3"}
		h.ok(OpStrongPut, StrongPutCmd{Key: strongKey(k), Content: c})
	}
	k := strongKey("k2")
	o, _ := h.f.StrongGet(k)
	h.ok(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, o), LastModified: lm})
	h.fails(OpStrongPut, StrongPutCmd{Key: strongKey("k1"), Content: content("x")}, ErrConflict)
}

func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t)
	richHistory(h)
	want := h.f.State()
	if want.Ring.Pending == nil || want.Staged == nil || len(want.Strong) != 3 || len(want.Buckets) != 2 {
		t.Fatalf("the history is not rich enough: %+v", want)
	}
	b := snapshotBytes(t, h.f)

	// Restore into a fresh FSM (with other defaults: the snapshot wins).
	f := NewFSM(node.Props{NVal: 1}, nil)
	if err := f.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if got := f.State(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs:\n%+v\nwant\n%+v", got, want)
	}
	if f.AppliedIndex() != h.idx {
		t.Fatalf("applied index %d, want %d", f.AppliedIndex(), h.idx)
	}
	if again := snapshotBytes(t, f); !bytes.Equal(again, b) {
		t.Fatal("a restored state snapshots to other bytes")
	}
	// The restored FSM carries on: the strong keys and plan are there.
	if _, err := f.StrongGet(strongKey("k2")); !errors.Is(err, node.ErrNotFound) {
		t.Fatalf("tombstone after restore: %v", err)
	}
	p1, err1 := h.f.Plan()
	p2, err2 := f.Plan()
	if err1 != nil || err2 != nil || !reflect.DeepEqual(p1, p2) {
		t.Fatalf("plans differ after restore: %v, %v", err1, err2)
	}
}

// Apply goes on while a snapshot persists: the snapshot holds the state
// it was taken at.
func TestSnapshotIsolated(t *testing.T) {
	h := newHarness(t)
	richHistory(h)
	want := h.f.State()
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	h.ok(OpStrongPut, StrongPutCmd{Key: strongKey("k9"), Content: content("new")})
	h.ok(OpClear, nil)
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	f := NewFSM(node.DefaultProps(), nil)
	if err := f.Restore(io.NopCloser(&sink.Buffer)); err != nil {
		t.Fatal(err)
	}
	if got := f.State(); !reflect.DeepEqual(got, want) {
		t.Fatal("the snapshot saw commands applied after it was taken")
	}
}

func TestRestoreRejectsCorruption(t *testing.T) {
	h := newHarness(t)
	richHistory(h)
	good := snapshotBytes(t, h.f)
	// A snapshot whose checksum is right but whose state is not.
	bad := h.f.State()
	bad.Ring.Owners = bad.Ring.Owners[:10]
	shape, err := encodeSnapshot(bad)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "too short", nil},
		{"truncated", "checksum", good[:len(good)-1]},
		{"flipped bit", "checksum", flip(good, len(good)/2)},
		{"flipped checksum", "checksum", flip(good, len(good)-1)},
		{"version", "version", append([]byte{9}, good[1:]...)},
		{"bad shape", "owner", shape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFSM(node.DefaultProps(), nil)
			h2 := &harness{t: t, f: f}
			h2.cluster("x1")
			before := f.State()
			err := f.Restore(io.NopCloser(bytes.NewReader(tc.b)))
			if err == nil || !strings.HasPrefix(err.Error(), "meta: snapshot: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore: %v, want an error about %q", err, tc.want)
			}
			if !reflect.DeepEqual(f.State(), before) {
				t.Fatal("a failed restore changed the state")
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x10
	return c
}

type failingSink struct {
	memSink
}

func (s *failingSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPersistCancelsOnError(t *testing.T) {
	f := NewFSM(node.DefaultProps(), nil)
	snap, _ := f.Snapshot()
	sink := &failingSink{}
	if err := snap.Persist(sink); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.cancelled || sink.closed {
		t.Fatalf("sink cancelled %v, closed %v", sink.cancelled, sink.closed)
	}
}

// Two replicas applying the same log hold byte-identical snapshots.
func TestDeterminism(t *testing.T) {
	var snaps [][]byte
	for range 3 {
		h := newHarness(t)
		richHistory(h)
		h.commit()
		for i := range 50 {
			c := content("v")
			c.Meta = map[string]string{"i": strings.Repeat("x", i), "j": "y"}
			h.ok(OpStrongPut, StrongPutCmd{Key: strongKey(string(rune('a'+i%26)) + strings.Repeat("!", i/26)), IfNoneMatch: true, Content: c})
			h.ok(OpCreateType, TypeCmd{Name: "t" + string(rune('a'+i%26)) + strings.Repeat("!", i/26)})
		}
		snaps = append(snaps, snapshotBytes(t, h.f))
	}
	for i := 1; i < len(snaps); i++ {
		if !bytes.Equal(snaps[0], snaps[i]) {
			t.Fatal("the same commands gave different snapshots")
		}
	}
}

func TestWaitApplied(t *testing.T) {
	h := newHarness(t)
	h.cluster("n1")
	if err := h.f.WaitApplied(context.Background(), h.idx); err != nil {
		t.Fatalf("already applied: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.f.WaitApplied(ctx, h.idx+1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}

	done := make(chan error)
	target := h.idx + 3
	go func() { done <- h.f.WaitApplied(context.Background(), target) }()
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n2"}})
	h.fails(OpRegister, RegisterCmd{}, ErrBadCommand) // failed commands advance too
	h.ok(OpRegister, RegisterCmd{Member: Member{ID: "n3"}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Restore wakes waiters up to the snapshot's index.
	b := snapshotBytes(t, h.f)
	f := NewFSM(node.DefaultProps(), nil)
	go func() { done <- f.WaitApplied(context.Background(), target) }()
	if err := f.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Reads return copies: changing them changes nothing in the FSM.
func TestReadsReturnCopies(t *testing.T) {
	h := newHarness(t)
	richHistory(h)
	want := h.f.State()

	h.f.Ring().Owners[0] = "mutated"
	h.f.Staged()[0].Node = "mutated"
	h.f.Members()[0].State = Down
	st := h.f.State()
	st.Members["n1"].State = Down
	st.Types[node.DefaultType].Props.NVal = 9
	for _, v := range st.Strong {
		v[0] = 0
	}
	if o, err := h.f.StrongGet(strongKey("k1")); err == nil {
		_ = o.Update(object.Context{}, content("x"), "a") // objects are immutable anyway
	}
	if got := h.f.State(); !reflect.DeepEqual(got, want) {
		t.Fatal("mutating a read's result changed the FSM")
	}
}

func TestStateEncodingHasEveryField(t *testing.T) {
	if n := reflect.TypeFor[State]().NumField(); n != stateFields {
		t.Fatalf("State has %d fields and State.EncodeMsgpack writes %d: encode the new ones", n, stateFields)
	}
}
