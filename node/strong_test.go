package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node/object"
)

// countingMetadata counts the strong calls that reach the metadata plane.
type countingMetadata struct {
	Metadata
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingMetadata) count(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[name]++
}

func (c *countingMetadata) n(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[name]
}

func (c *countingMetadata) StrongGet(ctx context.Context, loc Location) (*object.Object, error) {
	c.count("get")
	return c.Metadata.StrongGet(ctx, loc)
}

func (c *countingMetadata) StrongPut(ctx context.Context, loc Location, v object.Content, opts PutOptions) (*object.Object, error) {
	c.count("put")
	return c.Metadata.StrongPut(ctx, loc, v, opts)
}

func (c *countingMetadata) StrongDelete(ctx context.Context, loc Location, opts DeleteOptions) error {
	c.count("delete")
	return c.Metadata.StrongDelete(ctx, loc, opts)
}

func (c *countingMetadata) StrongList(ctx context.Context, typ, bucket string, fn func(string) error) error {
	c.count("list")
	return c.Metadata.StrongList(ctx, typ, bucket, fn)
}

// newStrongNode is a test node over a MemMetadata with a consistent type
// "strong" beside the default type.
func newStrongNode(t *testing.T, mutate ...func(*Config)) (*testNode, *MemMetadata, *countingMetadata) {
	t.Helper()
	strong := DefaultProps()
	strong.Consistent = true
	strong.AllowMult = false
	// The node's clock is made in newTestNodeWith; the metadata's only
	// stamps tombstones, so a fake of its own will do.
	mem := NewMemMetadata(clock.NewFake(testEpoch), DefaultProps(), map[string]Props{"strong": strong})
	md := &countingMetadata{Metadata: mem, calls: map[string]int{}}
	return newTestNodeWith(t, md, mutate...), mem, md
}

func sloc(key string) Location { return Location{Type: "strong", Bucket: "b", Key: key} }

// storedKeys counts the keys of loc's bucket in the node's vnodes.
func storedKeys(t *testing.T, n *testNode, typ, bucket string) int {
	t.Helper()
	count := 0
	if err := n.scan(context.Background(), BucketPrefix(typ, bucket), func(Location) error {
		count++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return count
}

func TestConsistentTypeGoesToMetadata(t *testing.T) {
	n, _, md := newStrongNode(t)
	ctx := context.Background()
	l := sloc("k")

	// Quorum options the bucket could never meet are ignored.
	opts := PutOptions{W: 7, DW: 7, PW: 7, ReturnBody: true}
	first, err := n.Put(ctx, l, text("v1"), opts)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if got := first.Values()[0].LastModified; !got.Equal(n.clock.Now()) {
		t.Fatalf("last modified %v, want the node's clock %v", got, n.clock.Now())
	}
	got, err := n.Get(ctx, l, GetOptions{R: 7, PR: 7})
	if err != nil || !equal(values(got), []string{"v1"}) {
		t.Fatalf("get: %v %v", values(got), err)
	}
	if c := storedKeys(t, n, "strong", "b"); c != 0 {
		t.Fatalf("a consistent key reached the vnodes: %d stored", c)
	}
	if md.n("put") != 1 || md.n("get") != 1 {
		t.Fatalf("metadata calls %v, want one put and one get", md.calls)
	}

	// Writes that do not name the current version conflict.
	if _, err := n.Put(ctx, l, text("blind"), DefaultPutOptions()); !errors.Is(err, ErrConflict) {
		t.Fatalf("blind write over an existing key: %v", err)
	}
	if _, err := n.Put(ctx, l, text("create"), PutOptions{IfNoneMatch: true, Context: first.Context()}); !errors.Is(err, ErrConflict) {
		t.Fatalf("if-none-match over an existing key: %v", err)
	}
	second := mustPut(t, n, l, "v2", first.Context())
	if _, err := n.Put(ctx, l, text("stale"), PutOptions{Context: first.Context()}); !errors.Is(err, ErrConflict) {
		t.Fatalf("write with a stale context: %v", err)
	}
	if v := values(mustGet(t, n, l)); !equal(v, []string{"v2"}) {
		t.Fatalf("after the conflicts: %v", v)
	}

	// Deletes need the current context too; no read fills it in.
	if err := n.Delete(ctx, l, DefaultDeleteOptions()); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete without context: %v", err)
	}
	del := DefaultDeleteOptions()
	del.Context = second.Context()
	if err := n.Delete(ctx, l, del); err != nil {
		t.Fatalf("delete: %v", err)
	}
	tomb, err := n.Get(ctx, l, DefaultGetOptions())
	if !errors.Is(err, ErrNotFound) || !tomb.IsTombstone() {
		t.Fatalf("get after delete: %v %v", tomb, err)
	}
	if err := n.Delete(ctx, l, del); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A deleted key may be created again without a context.
	mustPut(t, n, l, "again", object.Context{})

	mustPut(t, n, sloc("a"), "x", object.Context{})
	var keys []string
	if err := n.ListKeys(ctx, "strong", "b", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !equal(keys, []string{"a", "k"}) || md.n("list") != 1 {
		t.Fatalf("keys %v, list calls %d", keys, md.n("list"))
	}
	if err := n.ListBuckets(ctx, "strong", func(string) error { return nil }); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("listing the buckets of a consistent type: %v", err)
	}
	if s := n.Stats(); s.NodePutsTotal == 0 || s.NodeGetsTotal == 0 || s.NodeDeletes != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestOtherTypesNeverReachMetadata(t *testing.T) {
	n, _, md := newStrongNode(t)
	ctx := context.Background()
	l := loc("k")
	mustPut(t, n, l, "v", object.Context{})
	mustPut(t, n, l, "w", object.Context{}) // a sibling, not a conflict
	mustGet(t, n, l)
	if err := n.Delete(ctx, l, DefaultDeleteOptions()); err != nil {
		t.Fatal(err)
	}
	if err := n.ListKeys(ctx, DefaultType, "b", func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	n.WaitIdle()
	if storedKeys(t, n, DefaultType, "b") == 0 {
		t.Fatal("nothing stored in the vnodes")
	}
	for _, call := range []string{"get", "put", "delete", "list"} {
		if md.n(call) != 0 {
			t.Fatalf("the default type reached the metadata plane: %v", md.calls)
		}
	}
}

func TestConsistentPutChecksSizeFirst(t *testing.T) {
	n, _, md := newStrongNode(t, func(c *Config) { c.MaxObjectSize = 4 })
	if _, err := n.Put(context.Background(), sloc("k"), text("12345"), DefaultPutOptions()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized put: %v", err)
	}
	if md.n("put") != 0 {
		t.Fatal("an oversized value reached the metadata plane")
	}
	mustPut(t, n, sloc("k"), "1234", object.Context{})
}

func TestMetadataUnavailable(t *testing.T) {
	n, mem, _ := newStrongNode(t)
	ctx := context.Background()
	mem.Fail(fmt.Errorf("test: no leader: %w", ErrUnavailable))
	if _, err := n.Get(ctx, sloc("k"), DefaultGetOptions()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("get: %v", err)
	}
	if _, err := n.Put(ctx, sloc("k"), text("v"), DefaultPutOptions()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put: %v", err)
	}
	if _, err := n.SetTypeProps(ctx, "strong", []byte(`{"r":1}`)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("set type props: %v", err)
	}
	// The default type does not depend on the plane's quorum.
	mustPut(t, n, loc("k"), "v", object.Context{})
	mem.Fail(nil)
	mustPut(t, n, sloc("k"), "v", object.Context{})
}

func TestTypePropsThroughMetadata(t *testing.T) {
	n, _, _ := newStrongNode(t)
	ctx := context.Background()
	p, err := n.SetTypeProps(ctx, DefaultType, []byte(`{"n_val":2}`))
	if err != nil || p.NVal != 2 {
		t.Fatalf("set default type: %+v %v", p, err)
	}
	if p, _ := n.BucketProps(ctx, DefaultType, "b"); p.NVal != 2 {
		t.Fatalf("a bucket without overrides did not follow its type: %+v", p)
	}
	for _, c := range []struct{ typ, raw string }{
		{DefaultType, `{"consistent":true}`},
		{"strong", `{"consistent":false}`},
		{"strong", `{"n_val":5}`},
	} {
		if _, err := n.SetTypeProps(ctx, c.typ, []byte(c.raw)); !errors.Is(err, ErrBadProps) {
			t.Fatalf("%s %s: %v, want ErrBadProps", c.typ, c.raw, err)
		}
	}
	if _, err := n.SetBucketProps(ctx, "strong", "b", []byte(`{"consistent":false}`)); !errors.Is(err, ErrBadProps) {
		t.Fatalf("a bucket left its consistent type: %v", err)
	}
	if _, err := n.TypeProps(ctx, "nosuch"); !errors.Is(err, ErrUnknownBucketType) {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestLocalMetadataHasNoConsistentTypes(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	if p, err := n.TypeProps(ctx, DefaultType); err != nil || p.NVal != 3 {
		t.Fatalf("default type: %+v %v", p, err)
	}
	if _, err := n.SetTypeProps(ctx, DefaultType, []byte(`{"n_val":2}`)); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("set type props alone: %v", err)
	}
	if _, err := n.SetTypeProps(ctx, "nosuch", []byte(`{}`)); !errors.Is(err, ErrUnknownBucketType) {
		t.Fatalf("set props of an unknown type: %v", err)
	}
	if _, err := n.SetBucketProps(ctx, DefaultType, "b", []byte(`{"consistent":true}`)); !errors.Is(err, ErrBadProps) {
		t.Fatalf("a bucket made itself consistent: %v", err)
	}
	md := n.md
	if _, err := md.StrongGet(ctx, loc("k")); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("strong get: %v", err)
	}
	if _, err := md.StrongPut(ctx, loc("k"), text("v"), DefaultPutOptions()); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("strong put: %v", err)
	}
	if err := md.StrongDelete(ctx, Location{Type: "nosuch", Bucket: "b", Key: "k"}, DefaultDeleteOptions()); !errors.Is(err, ErrUnknownBucketType) {
		t.Fatalf("strong delete of an unknown type: %v", err)
	}
	if err := md.StrongList(ctx, DefaultType, "b", func(string) error { return nil }); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("strong list: %v", err)
	}
	strong := DefaultProps()
	strong.Consistent = true
	if _, err := NewLocalMetadata(n.eng, DefaultProps(), map[string]Props{"s": strong}); !errors.Is(err, ErrBadProps) {
		t.Fatalf("local metadata with a consistent type: %v", err)
	}
}
