package meta

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

var lm = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func strongHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.ok(OpCreateType, TypeCmd{Name: "sc", Props: []byte(`{"consistent":true}`)})
	h.ok(OpActivateType, TypeCmd{Name: "sc"})
	return h
}

func strongKey(k string) []byte { return node.Location{Type: "sc", Bucket: "b", Key: k}.Bytes() }

func content(v string) object.Content {
	return object.Content{Value: []byte(v), ContentType: "text/plain", LastModified: lm}
}

// put writes key with value v and context ctx and returns the object
// stored, checking it is the one Result carries and StrongGet returns.
func (h *harness) put(key []byte, v, ctx string) *object.Object {
	h.t.Helper()
	res := h.ok(OpStrongPut, StrongPutCmd{Key: key, Context: ctx, Content: content(v)})
	o, err := object.Decode(res.Object)
	if err != nil {
		h.t.Fatal(err)
	}
	vals := o.Values()
	if len(vals) != 1 || string(vals[0].Value) != v {
		h.t.Fatalf("after put of %q: values %v", v, vals)
	}
	got, err := h.f.StrongGet(key)
	if err != nil || !object.Equal(got, o) {
		h.t.Fatalf("StrongGet after put: %v, %v", got, err)
	}
	return o
}

func ctxOf(key []byte, o *object.Object) string { return o.Context().Encode(key) }

func TestStrongPutAndDelete(t *testing.T) {
	h := strongHarness(t)
	k := strongKey("k")

	if _, err := h.f.StrongGet(k); !errors.Is(err, node.ErrNotFound) {
		t.Fatalf("StrongGet of an absent key: %v", err)
	}
	h.fails(OpStrongPut, StrongPutCmd{Key: k, Context: ctxOf(k, object.New().Update(object.Context{}, content("x"), StrongActor)),
		Content: content("x")}, ErrConflict) // a context for a key that does not exist

	v1 := h.put(k, "v1", "")
	res := h.fails(OpStrongPut, StrongPutCmd{Key: k, Content: content("again")}, ErrConflict)
	if want := "meta: conflict: the key exists; send the causal context of the version you replace"; res.Msg != want {
		t.Fatalf("message %q, want %q", res.Msg, want)
	}
	if !errors.Is(res.Err(), node.ErrConflict) {
		t.Fatalf("%v does not wrap node.ErrConflict", res.Err())
	}
	h.fails(OpStrongPut, StrongPutCmd{Key: k, IfNoneMatch: true, Content: content("inm")}, ErrConflict)

	v2 := h.put(k, "v2", ctxOf(k, v1))
	h.fails(OpStrongPut, StrongPutCmd{Key: k, Context: ctxOf(k, v1), Content: content("stale")}, ErrConflict)

	// Deletes need the current context too.
	h.fails(OpStrongDelete, StrongDeleteCmd{Key: k, LastModified: lm}, ErrConflict)
	h.fails(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, v1), LastModified: lm}, ErrConflict)
	res = h.ok(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, v2), LastModified: lm})
	tomb, err := object.Decode(res.Object)
	if err != nil || !tomb.IsTombstone() {
		t.Fatalf("delete stored %v, %v; want a tombstone", tomb, err)
	}
	got, err := h.f.StrongGet(k)
	if !errors.Is(err, node.ErrNotFound) || got == nil || !object.Equal(got, tomb) {
		t.Fatalf("StrongGet after delete: %v, %v; want the tombstone and ErrNotFound", got, err)
	}
	h.fails(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, tomb), LastModified: lm}, node.ErrNotFound)
	h.fails(OpStrongDelete, StrongDeleteCmd{Key: strongKey("never"), LastModified: lm}, node.ErrNotFound)

	// Contexts from before the delete never match the re-created key.
	v3 := h.put(k, "v3", "")
	for _, old := range []*object.Object{v1, v2, tomb} {
		h.fails(OpStrongPut, StrongPutCmd{Key: k, Context: ctxOf(k, old), Content: content("old")}, ErrConflict)
		h.fails(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, old), LastModified: lm}, ErrConflict)
	}
	if ctxOf(k, v3) == ctxOf(k, v1) {
		t.Fatal("the re-created key has the first version's context")
	}
	h.put(k, "v4", ctxOf(k, v3))
}

func TestStrongRecreateOverTombstone(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  func(k []byte, tomb *object.Object) StrongPutCmd
	}{
		{"no context", func(k []byte, _ *object.Object) StrongPutCmd {
			return StrongPutCmd{Key: k, Content: content("new")}
		}},
		{"if-none-match", func(k []byte, _ *object.Object) StrongPutCmd {
			return StrongPutCmd{Key: k, IfNoneMatch: true, Content: content("new")}
		}},
		{"the tombstone's context", func(k []byte, tomb *object.Object) StrongPutCmd {
			return StrongPutCmd{Key: k, Context: ctxOf(k, tomb), Content: content("new")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := strongHarness(t)
			k := strongKey("k")
			v1 := h.put(k, "v1", "")
			res := h.ok(OpStrongDelete, StrongDeleteCmd{Key: k, Context: ctxOf(k, v1), LastModified: lm})
			tomb, _ := object.Decode(res.Object)
			res = h.ok(OpStrongPut, tc.cmd(k, tomb))
			o, _ := object.Decode(res.Object)
			if o.Len() != 1 || o.IsTombstone() || !o.Context().Descends(tomb.Context()) || o.Context().Equal(tomb.Context()) {
				t.Fatalf("re-created object %v over tombstone %v", o, tomb)
			}
		})
	}
}

func TestStrongPutErrors(t *testing.T) {
	k := strongKey("k")
	other := strongKey("other")
	foreign := object.New().Update(object.Context{}, content("x"), StrongActor).Context().Encode(other)
	plainKey := node.Location{Type: node.DefaultType, Bucket: "b", Key: "k"}.Bytes()
	for _, tc := range []struct {
		name string
		cmd  StrongPutCmd
		want error
		del  error // what a delete of the key with the context gets
	}{
		{"malformed key", StrongPutCmd{Key: []byte{0xff}, Content: content("x")}, ErrBadCommand, ErrBadCommand},
		{"empty key", StrongPutCmd{Key: node.Location{Type: "sc", Bucket: "b"}.Bytes(), Content: content("x")}, node.ErrBadRequest, node.ErrBadRequest},
		{"unknown type", StrongPutCmd{Key: node.Location{Type: "nope", Bucket: "b", Key: "k"}.Bytes(), Content: content("x")}, node.ErrUnknownBucketType, node.ErrUnknownBucketType},
		{"inactive type", StrongPutCmd{Key: node.Location{Type: "idle", Bucket: "b", Key: "k"}.Bytes(), Content: content("x")}, ErrTypeNotActive, ErrTypeNotActive},
		{"type not consistent", StrongPutCmd{Key: plainKey, Content: content("x")}, node.ErrBadRequest, node.ErrBadRequest},
		{"malformed context", StrongPutCmd{Key: k, Context: "not base64!", Content: content("x")}, object.ErrMalformedContext, object.ErrMalformedContext},
		{"another key's context", StrongPutCmd{Key: k, Context: foreign, Content: content("x")}, object.ErrForeignContext, object.ErrForeignContext},
		{"a deleted value", StrongPutCmd{Key: k, Content: object.Content{Deleted: true}}, ErrBadCommand, node.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := strongHarness(t)
			h.ok(OpCreateType, TypeCmd{Name: "idle", Props: []byte(`{"consistent":true}`)})
			h.fails(OpStrongPut, tc.cmd, tc.want)
			h.fails(OpStrongDelete, StrongDeleteCmd{Key: tc.cmd.Key, Context: tc.cmd.Context}, tc.del)
		})
	}
}

func TestStrongList(t *testing.T) {
	h := strongHarness(t)
	for _, k := range []string{"c", "a", "b", "gone"} {
		h.put(strongKey(k), k, "")
	}
	gone, _ := h.f.StrongGet(strongKey("gone"))
	h.ok(OpStrongDelete, StrongDeleteCmd{Key: strongKey("gone"), Context: ctxOf(strongKey("gone"), gone), LastModified: lm})
	for _, b := range []string{"bb", "b2", "a"} {
		h.put(node.Location{Type: "sc", Bucket: b, Key: "x"}.Bytes(), "x", "")
	}

	var keys []string
	collect := func(k string) error { keys = append(keys, k); return nil }
	if err := h.f.StrongList("sc", "b", collect); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(keys, want) {
		t.Fatalf("StrongList %v, want %v", keys, want)
	}

	stop := errors.New("stop")
	keys = nil
	err := h.f.StrongList("sc", "b", func(k string) error {
		// fn may call back into the FSM.
		if _, err := h.f.StrongGet(strongKey(k)); err != nil {
			return err
		}
		keys = append(keys, k)
		return stop
	})
	if !errors.Is(err, stop) || len(keys) != 1 {
		t.Fatalf("StrongList stopping early: %v, %v", keys, err)
	}
	if err := h.f.StrongList(node.DefaultType, "b", collect); !errors.Is(err, node.ErrBadRequest) {
		t.Fatalf("StrongList of a plain type: %v", err)
	}
	if err := h.f.StrongList("nope", "b", collect); !errors.Is(err, node.ErrUnknownBucketType) {
		t.Fatalf("StrongList of an unknown type: %v", err)
	}
}
